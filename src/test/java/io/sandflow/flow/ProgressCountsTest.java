package io.sandflow.flow;

import io.sandflow.config.SandflowConfig;
import io.sandflow.config.Settings;
import io.sandflow.observe.Metrics;
import io.sandflow.observe.Progress;
import io.sandflow.observe.Standing;
import io.sandflow.job.Json;
import io.sandflow.job.FailureClass;
import io.sandflow.job.JobFailure;
import io.sandflow.result.OutputNames;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The figures of the progress line when the store and the inbox are read while jobs are ending: between their
 * store writes and their lines, the window that eight workers finishing together hit at the first line of a run.
 * The job's steps are the beans the routes call, run one after the other on this thread with the read placed
 * inside that window, so the interleaving is exact and needs no timing.
 */
class ProgressCountsTest {

    @TempDir
    Path dir;
    private SandflowConfig config;
    private Node node;
    private CamelContext context;
    private ResultSteps results;
    private JobSteps jobs;
    private Progress progress;
    private Standing standing;

    @BeforeEach
    void setUp() throws IOException {
        Workdir work = new Workdir(dir);
        // The store and the inbox are read once, at the test's refresh(), and not again because the view got old
        work.set("sandflow.observe.refresh", "1h");
        config = SandflowConfig.of(Settings.of(work.root, work.settings));
        node = new Node(config).open();
        context = new DefaultCamelContext();
        new SandflowConfiguration(config, node).configure(context);
        results = context.getRegistry().lookupByNameAndType("results", ResultSteps.class);
        jobs = context.getRegistry().lookupByNameAndType("jobs", JobSteps.class);
        progress = context.getRegistry().lookupByNameAndType("progress", Progress.class);
        standing = context.getRegistry().lookupByNameAndType("standing", Standing.class);
        for (String name : new String[] {"a.json", "b.json", "c.json"}) {
            work.ask(name, "success");
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        context.close();
        node.close();
    }

    @Test
    void jobsThatSucceedWhileTheViewIsReadCountOnceEachAtItsOwnLine() throws IOException {
        Job a = claimed("a.json");
        Job b = claimed("b.json");

        results.write(a);
        results.write(b);
        // write() records the job and archives its input in one step: the refresh below sees both or neither
        assertThat(config.folders().inbox().resolve("a.json")).doesNotExist();
        assertThat(config.folders().archive().resolve("a.json")).exists();
        standing.refresh();
        progress.finished(a, null);

        assertThat(counts()).as("a's line: b is done in the store but not reported yet, c waits")
                .isEqualTo(new Progress.Counts(3, 1, 0, 0, 2));

        progress.finished(b, null);

        assertThat(counts()).as("b's line").isEqualTo(new Progress.Counts(3, 2, 0, 0, 1));
    }

    @Test
    void aJobThatFailsWhileTheViewIsReadCountsOnceInFailedAndInTheTotal() throws IOException {
        Job a = claimed("a.json");
        JobFailure refused = new JobFailure(FailureClass.PERMANENT, "refused by the test");

        results.fail(a, Json.PRETTY.writeValueAsBytes(results.report(a, refused)), refused);
        standing.refresh();
        progress.finished(a, refused);

        assertThat(counts()).as("a failed; b and c pending").isEqualTo(new Progress.Counts(3, 0, 1, 0, 2));
    }

    @Test
    void aJobSkippedForItsOutputIsDoneInTheStoreAndCountsAsDoneAtOnce() throws IOException {
        standing.refresh();
        Files.writeString(config.folders().outbox().resolve(OutputNames.resolve(config.results().namePattern(),
                "a.json")), "{}");

        Job a = admitted("a.json");
        assertThat(jobs.claim(a, "INPUT", null)).isEqualTo("RESULT_IN_OUTBOX");
        jobs.takeResult(a);
        progress.finished(a, null);

        assertThat(a.ending).isEqualTo("skipped");
        assertThat(counts()).as("a done without running; b and c pending")
                .isEqualTo(new Progress.Counts(3, 1, 0, 0, 2));
    }

    /** A job of this node, claimed in the store, whose agent gave a valid result. */
    private Job claimed(String name) throws IOException {
        Job job = admitted(name);
        assertThat(jobs.claim(job, "INPUT", null)).as("%s claimed", name).isEqualTo("CLAIMED");
        job.result = Json.MAPPER.createObjectNode().put("summary", name);
        return job;
    }

    /** A job as the dispatch route's first step makes it from the file the inbox consumer hands over. */
    private Job admitted(String name) throws IOException {
        Exchange exchange = new DefaultExchange(context);
        String path = config.folders().inbox().resolve(name).toAbsolutePath().toString();
        assertThat(jobs.admit(path, exchange)).isEqualTo("INPUT");
        return exchange.getProperty(Job.PROPERTY, Job.class);
    }

    private Progress.Counts counts() {
        return progress.counts(standing.view());
    }

    /** A clock the test moves. */
    private static final class TestClock extends java.time.Clock {
        private java.time.Instant now = java.time.Instant.parse("2026-12-03T09:00:00Z");

        void advance(java.time.Duration d) {
            now = now.plus(d);
        }

        @Override
        public java.time.ZoneId getZone() {
            return java.time.ZoneOffset.UTC;
        }

        @Override
        public java.time.Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public java.time.Instant instant() {
            return now;
        }
    }

    @Test
    void theEtaOfTheProgressLineIsThisRunsPaceOnItsClock() throws IOException {
        TestClock clock = new TestClock();
        Progress timed = new Progress(standing, new Metrics(new io.micrometer.core.instrument.composite
                .CompositeMeterRegistry()), clock, () -> null);
        Job a = claimed("a.json");
        Job b = claimed("b.json");
        standing.refresh();

        clock.advance(java.time.Duration.ofSeconds(5));
        results.write(a);
        timed.finished(a, null);
        clock.advance(java.time.Duration.ofSeconds(5));
        results.write(b);
        timed.finished(b, null);

        Progress.Counts c = timed.counts(standing.view());
        assertThat(c.pending()).isEqualTo(1);
        assertThat(timed.eta(c).text()).as("two jobs in 10 s, one to go").isEqualTo("5s");
        clock.advance(java.time.Duration.ofSeconds(10));
        assertThat(timed.eta(c).text()).as("nothing finished for 10 s: the pace halves").isEqualTo("10s");
    }

    @Test
    void theProgressLineHasNoEtaWhileTheBreakerHoldsTheQueueAndSaysWhy() throws IOException {
        TestClock clock = new TestClock();
        Progress timed = new Progress(standing, new Metrics(new io.micrometer.core.instrument.composite
                .CompositeMeterRegistry()), clock, () -> "the circuit breaker is forced open: the total budget is spent");
        Job a = claimed("a.json");
        standing.refresh();
        clock.advance(java.time.Duration.ofSeconds(5));
        results.write(a);
        timed.finished(a, null);

        assertThat(timed.eta(timed.counts(standing.view())).text())
                .isEqualTo("none (the circuit breaker is forced open: the total budget is spent)");
    }
}
