package io.sandflow.observe;

import io.sandflow.config.Settings;
import io.sandflow.flow.Engine;
import io.sandflow.flow.Job;
import io.sandflow.flow.JobSteps;
import io.sandflow.flow.ResultSteps;
import io.sandflow.flow.SandflowConfiguration;
import io.sandflow.flow.Workdir;
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
    private Engine engine;
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
        engine = Engine.configure(Settings.of(work.root, work.settings)).open();
        context = new DefaultCamelContext();
        new SandflowConfiguration(engine).configure(context);
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
        engine.close();
    }

    @Test
    void jobsThatSucceedWhileTheViewIsReadCountOnceEachAtItsOwnLine() throws IOException {
        Exchange a = claimed("a.json");
        Exchange b = claimed("b.json");

        results.write(a);
        results.write(b);
        // write() records the job and archives its input in one step: the refresh below sees both or neither
        assertThat(engine.inbox.resolve("a.json")).doesNotExist();
        assertThat(engine.archive.resolve("a.json")).exists();
        standing.refresh();
        progress.finished(a);

        assertThat(counts()).as("a's line: b is done in the store but not reported yet, c waits")
                .isEqualTo(new Progress.Counts(3, 1, 0, 0, 2));

        progress.finished(b);

        assertThat(counts()).as("b's line").isEqualTo(new Progress.Counts(3, 2, 0, 0, 1));
    }

    @Test
    void aJobThatFailsWhileTheViewIsReadCountsOnceInFailedAndInTheTotal() throws IOException {
        Exchange a = claimed("a.json");
        a.setProperty(Exchange.EXCEPTION_CAUGHT, new JobFailure(FailureClass.PERMANENT, "refused by the test"));

        results.fail(a);
        standing.refresh();
        progress.finished(a);

        assertThat(counts()).as("a failed; b and c pending").isEqualTo(new Progress.Counts(3, 0, 1, 0, 2));
    }

    @Test
    void aJobSkippedForItsOutputIsDoneInTheStoreAndCountsAsDoneAtOnce() throws IOException {
        standing.refresh();
        Files.writeString(engine.outbox.resolve(OutputNames.resolve(engine.resultNamePattern, "a.json")), "{}");

        Exchange a = exchangeFor("a.json");
        jobs.claim(a);

        assertThat(a.getProperty(Job.PROPERTY, Job.class).ending).isEqualTo("skipped");
        assertThat(counts()).as("a done without running; b and c pending")
                .isEqualTo(new Progress.Counts(3, 1, 0, 0, 2));
    }

    /** A job of this node, claimed in the store, whose agent gave a valid result. */
    private Exchange claimed(String name) throws IOException {
        Exchange exchange = exchangeFor(name);
        jobs.claim(exchange);
        assertThat(exchange.getProperty(JobSteps.RUNNABLE, Boolean.class)).as("%s claimed", name).isTrue();
        Job job = exchange.getProperty(Job.PROPERTY, Job.class);
        job.result = Json.MAPPER.createObjectNode().put("summary", name);
        return exchange;
    }

    /** What the inbox consumer hands the intake route for one file. */
    private Exchange exchangeFor(String name) {
        Exchange exchange = new DefaultExchange(context);
        exchange.getIn().setHeader("CamelFileAbsolutePath", engine.inbox.resolve(name).toAbsolutePath().toString());
        return exchange;
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
        Exchange a = claimed("a.json");
        Exchange b = claimed("b.json");
        standing.refresh();

        clock.advance(java.time.Duration.ofSeconds(5));
        results.write(a);
        timed.finished(a);
        clock.advance(java.time.Duration.ofSeconds(5));
        results.write(b);
        timed.finished(b);

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
        Exchange a = claimed("a.json");
        standing.refresh();
        clock.advance(java.time.Duration.ofSeconds(5));
        results.write(a);
        timed.finished(a);

        assertThat(timed.eta(timed.counts(standing.view())).text())
                .isEqualTo("none (the circuit breaker is forced open: the total budget is spent)");
    }
}
