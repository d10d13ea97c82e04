package io.sandflow.flow;

import io.sandflow.job.JobState;
import io.sandflow.store.JobRecord;
import io.sandflow.store.JobStore;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * While the circuit breaker is open, intake really pauses: no job is claimed, read, parked or logged again, and
 * each half-open period lets exactly one job probe the agent, a different one each time. When every call fails
 * for everyone (429, refused connection), the breaker still opens within its window and parks the queue.
 */
@Tag("process")
class OpenBreakerTest {

    private static final int FILES = 30;
    private static final int WORKERS = 2;
    private static final int MIN_CALLS = 4;
    private static final int PROBES = 4;
    private static final Pattern STATE_LINE = Pattern.compile("circuit breaker (OPEN|HALF_OPEN|CLOSED)\\b");

    @TempDir
    Path dir;
    JobStore store;

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    @Test
    void anOpenBreakerClaimsReadsAndLogsNothingButOneProbePerHalfOpen() throws Exception {
        Workdir work = new Workdir(dir);
        work.set("sandflow.workers", Integer.toString(WORKERS))
                .set("sandflow.breaker.min-calls", Integer.toString(MIN_CALLS))
                .set("sandflow.breaker.window", Integer.toString(MIN_CALLS))
                .set("sandflow.breaker.open-for", "1s")
                .set("sandflow.retry.max-attempts", "50")
                .set("sandflow.once.max-wait", "60s");
        Path outage = Files.createFile(work.state.resolve("outage"));
        List<String> names = new ArrayList<>();
        for (int i = 0; i < FILES; i++) {
            String name = String.format("o-%02d.json", i);
            names.add(name);
            work.ask(name, "outage");
        }

        List<String> lines;
        long callsAtOpen;
        List<String[]> callsDuringOutage;
        long claims;
        int exit;
        try (LogCapture log = LogCapture.start()) {
            CompletableFuture<Integer> run = CompletableFuture.supplyAsync(work::runOnce);
            await("the first agent call").atMost(Duration.ofSeconds(30))
                    .until(() -> DaemonProcess.callCount(work) > 0 || run.isDone());
            store = JobStore.open("jdbc:h2:" + work.root.resolve("data/sandflow"), null, null);
            await("the breaker opens").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10))
                    .until(() -> !log.matching("circuit breaker OPEN").isEmpty() || run.isDone());
            assertThat(run).isNotDone();
            callsAtOpen = DaemonProcess.callCount(work);
            await(PROBES + " probes").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                    .until(() -> DaemonProcess.callCount(work) >= callsAtOpen + PROBES || run.isDone());
            assertThat(run).isNotDone();
            assertThat(store.getState("breaker")).hasValueSatisfying(s -> assertThat(s).matches("(?s)(OPEN|HALF_OPEN).*"));
            callsDuringOutage = DaemonProcess.calls(work);
            claims = names.stream().flatMap(n -> store.findByName(n).stream()).mapToLong(JobRecord::fenceToken).sum();
            lines = log.texts();
            Files.delete(outage);
            exit = run.get(90, TimeUnit.SECONDS);
        }

        List<String> probes = callsDuringOutage.subList((int) callsAtOpen, callsDuringOutage.size()).stream()
                .map(c -> c[2]).toList();
        long parkedLines = lines.stream().filter(l -> l.contains(": parked, stays in the inbox")).count();
        List<String> states = new ArrayList<>();
        for (String line : lines) {
            Matcher m = STATE_LINE.matcher(line);
            if (m.find()) {
                states.add(m.group(1));
            }
        }
        System.out.printf("calls before the breaker opened %d; probes %s; claims %d; parked lines %d; state lines %s%n",
                callsAtOpen, probes, claims, parkedLines, states);

        assertThat(new LinkedHashSet<>(probes)).as("each half-open period probes with another input")
                .hasSameSizeAs(probes);
        assertThat(claims).as("claims during the outage: those before the breaker opened, then one per probe")
                .isLessThanOrEqualTo(MIN_CALLS + 4L * WORKERS + probes.size());
        // In flight when it opened: up to one job per worker thread and one per retry thread (each waits for a sandbox)
        assertThat(parkedLines).as("jobs parked: those in flight when it opened, then each failed probe")
                .isLessThanOrEqualTo(2L * WORKERS + probes.size());
        for (int i = 1; i < states.size(); i++) {
            assertThat(states.get(i)).as("one log line per state change: %s", states).isNotEqualTo(states.get(i - 1));
        }
        assertThat(states.stream().filter("OPEN"::equals).count()).as("OPEN lines").isLessThanOrEqualTo(probes.size() + 1);

        assertThat(exit).as("run --once exit code").isZero();
        assertThat(work.names(work.outbox())).hasSize(FILES);
        assertThat(work.names(work.failed())).isEmpty();
        for (String name : names) {
            assertThat(store.findByName(name)).as(name).singleElement().extracting(JobRecord::state)
                    .isEqualTo(JobState.DONE);
        }
        assertThat(store.getState("breaker")).as("status after the breaker closed and the run ended")
                .contains("CLOSED");
    }

    /** The opposite of poison inputs: every call fails for everyone, and the breaker opens within its window. */
    @ParameterizedTest
    @ValueSource(strings = {"rate-limit", "connection"})
    void everyCallFailingForEveryoneOpensTheBreakerWithinItsWindowAndParks(String behaviour) throws Exception {
        Workdir work = new Workdir(dir);
        work.set("sandflow.workers", Integer.toString(WORKERS))
                .set("sandflow.breaker.min-calls", Integer.toString(MIN_CALLS))
                .set("sandflow.breaker.window", "10")
                .set("sandflow.breaker.open-for", "1m")
                .set("sandflow.retry.max-attempts", "50")
                .set("sandflow.once.max-wait", "1s");
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            String name = String.format("r-%02d.json", i);
            names.add(name);
            work.ask(name, behaviour);
        }

        int exit = work.runOnce();

        long calls = DaemonProcess.callCount(work);
        System.out.printf("%s: %d agent calls before the breaker parked the queue%n", behaviour, calls);
        assertThat(exit).as("run --once exit code with the queue parked").isEqualTo(3);
        assertThat(calls).as("calls: min-calls distinct jobs, plus those in flight when it opened")
                .isBetween((long) MIN_CALLS, (long) MIN_CALLS + WORKERS);
        assertThat(work.names(work.failed())).isEmpty();
        assertThat(work.names(work.outbox())).isEmpty();
        assertThat(work.names(work.inbox())).containsExactlyElementsOf(names);
        for (String name : names) {
            assertThat(work.ledger(name)).as(name)
                    .allSatisfy(r -> assertThat(r.state()).isIn(JobState.PARKED, JobState.PENDING));
        }
    }

    /**
     * During an outage the first input by name crashes on its own. As a half-open probe its crash spends its own
     * retries and leaves the breaker half-open for the next input, which finds the outage and reopens it: the
     * crashing input ends in failed/ after exactly its retries while the outage lasts, and nothing else fails.
     */
    @Test
    void aProbeThatFailsForItsInputSpendsItsRetriesAndTheNextInputProbes() throws Exception {
        Workdir work = new Workdir(dir);
        work.set("sandflow.workers", Integer.toString(WORKERS))
                .set("sandflow.breaker.min-calls", Integer.toString(MIN_CALLS))
                .set("sandflow.breaker.window", Integer.toString(MIN_CALLS))
                .set("sandflow.breaker.open-for", "500ms")
                .set("sandflow.retry.max-attempts", "3")
                .set("sandflow.once.max-wait", "60s");
        Path outage = Files.createFile(work.state.resolve("outage"));
        work.ask("a-crash.json", "crash");
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            String name = String.format("o-%02d.json", i);
            names.add(name);
            work.ask(name, "outage");
        }

        CompletableFuture<Integer> run = CompletableFuture.supplyAsync(work::runOnce);
        await("the crashing input fails while the outage lasts").atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(20))
                // The input moves last, after its report and its ledger row
                .until(() -> Files.exists(work.failed().resolve("a-crash.json")) || run.isDone());
        assertThat(run).isNotDone();
        List<String> failedDuringOutage = work.names(work.failed());
        long crashRuns = work.agentCalls("a-crash.json");
        Files.delete(outage);
        int exit = run.get(60, TimeUnit.SECONDS);

        assertThat(crashRuns).as("the crashing input's runs").isEqualTo(3);
        assertThat(work.report("a-crash.json").path("attempts").asInt()).isEqualTo(3);
        assertThat(failedDuringOutage).containsExactly("a-crash.json", "a-crash.json.error.json");
        assertThat(exit).as("one input failed").isEqualTo(1);
        assertThat(work.names(work.outbox())).hasSize(names.size());
    }
}
