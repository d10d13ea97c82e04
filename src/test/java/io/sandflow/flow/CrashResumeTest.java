package io.sandflow.flow;

import com.fasterxml.jackson.databind.JsonNode;
import io.sandflow.job.JobState;
import io.sandflow.store.JobRecord;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * "Nothing lost, nothing done twice": the daemon runs as a real child JVM and is killed with SIGKILL at
 * three random moments, restarted each time, then drained with {@code run --once}. Every input must end exactly
 * once in outbox/ (or failed/), whole, with one DONE ledger row, and the agent may have been re-run only for the
 * jobs that were in flight when a kill hit (at most kills x workers extra runs).
 */
@Tag("process")
class CrashResumeTest {

    private static final int INPUTS = 40;
    private static final int WORKERS = 2;
    private static final int KILLS = 3;
    private static final long SEED = 20240603L;

    @TempDir
    Path dir;
    Workdir work;
    final List<Process> started = new ArrayList<>();

    @AfterEach
    void stopChildren() {
        started.forEach(Process::destroyForcibly);
        if (work != null) {
            DaemonProcess.printLog(work);
        }
    }

    @Test
    void killMinus9AtRandomMomentsLosesNothingAndDoesNothingTwice() throws Exception {
        work = new Workdir(dir);
        work.set("sandflow.workers", Integer.toString(WORKERS))
                .set("sandflow.agent.env.STANDIN_DELAY", "0.2")
                .set("sandflow.once.max-wait", "20s");
        List<String> names = new ArrayList<>();
        for (int i = 0; i < INPUTS; i++) {
            String name = String.format("in-%02d.json", i);
            names.add(name);
            work.ask(name, "slow");
        }
        Random random = new Random(SEED);

        for (int kill = 1; kill <= KILLS; kill++) {
            Process daemon = DaemonProcess.start(work, "run");
            started.add(daemon);
            int threshold = results() + 2 + random.nextInt(8);
            await("outbox past " + threshold + " before kill " + kill).atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(10))
                    .until(() -> results() >= threshold || !daemon.isAlive());
            assertThat(daemon.isAlive()).as("the daemon is still running at kill " + kill).isTrue();
            daemon.destroyForcibly();
            assertThat(daemon.waitFor(10, TimeUnit.SECONDS)).isTrue();
            // 128 + 9: destroyForcibly() really is SIGKILL here, so no shutdown hook or grace ran
            assertThat(daemon.exitValue()).as("exit status of a SIGKILLed JVM").isEqualTo(137);
            System.out.printf("kill %d: SIGKILL at %d results in the outbox (threshold %d)%n", kill, results(),
                    threshold);
        }
        assertThat(results()).as("the kills happened before the inbox was drained").isLessThan(INPUTS);

        Process drain = DaemonProcess.start(work, "run", "--once");
        started.add(drain);
        assertThat(drain.waitFor(90, TimeUnit.SECONDS)).as("run --once finished").isTrue();
        assertThat(drain.exitValue()).as("run --once exit code").isZero();

        // Every input ended in exactly one place, and here all of them succeeded
        assertThat(work.names(work.inbox())).as("inbox").isEmpty();
        for (String name : names) {
            String result = name.replace(".json", ".result.json");
            boolean inOutbox = Files.exists(work.outbox().resolve(result));
            boolean inFailed = Files.exists(work.failed().resolve(name));
            assertThat(inOutbox ^ inFailed).as(name + " is in exactly one of outbox/ and failed/").isTrue();
        }
        assertThat(work.names(work.failed())).as("failed/").isEmpty();
        assertThat(work.names(work.archive())).as("archive: each input once, no renamed duplicates")
                .containsExactlyInAnyOrderElementsOf(names);
        assertThat(work.names(work.outbox())).hasSize(INPUTS);
        // Whole, valid results; no temp file left behind by a write that a kill interrupted
        for (String name : names) {
            JsonNode result = work.json(work.outbox().resolve(name.replace(".json", ".result.json")));
            assertThat(result.path("summary").asText()).as(name).contains(name);
            assertThat(result.path("tags").isArray()).as(name).isTrue();
        }
        List<String> hidden;
        try (Stream<Path> all = Files.list(work.outbox())) {
            hidden = all.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".")).toList();
        }
        System.out.println("hidden files left in the outbox: " + hidden);
        // A kill during a write leaves its temp file; the next start removes it
        assertThat(hidden).as("leftovers in the outbox").isEmpty();
        // Each output was written once: one job per input, DONE
        Map<String, List<JobRecord>> ledger = DaemonProcess.ledger(work, names);
        ledger.forEach((name, rows) -> assertThat(rows).as("ledger rows of " + name).singleElement()
                .extracting(JobRecord::state).isEqualTo(JobState.DONE));

        // Re-runs only for jobs in flight at a kill
        Map<String, Integer> calls = DaemonProcess.callsPerJob(work);
        Map<Integer, Integer> histogram = new TreeMap<>();
        names.forEach(n -> histogram.merge(calls.getOrDefault(n, 0), 1, Integer::sum));
        int extra = calls.values().stream().mapToInt(c -> c - 1).sum();
        System.out.printf("agent runs per file -> number of files: %s; extra runs %d (bound %d = kills x workers)%n",
                histogram, extra, KILLS * WORKERS);
        assertThat(calls.keySet()).as("files the agent ran for").isSubsetOf(names);
        assertThat(histogram).as("every result came from an agent run").doesNotContainKey(0);
        assertThat(extra).as("extra agent runs").isLessThanOrEqualTo(KILLS * WORKERS);

        // No agent outlives the daemons: neither the logged agent pids nor anything running the stand-in script
        List<Long> pids = DaemonProcess.agentPids(work);
        await("no stand-in agent left running").atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(pids).noneMatch(Workdir::running);
            assertThat(DaemonProcess.liveStandins(work)).isEmpty();
        });
    }

    /**
     * What a kill -9 during {@code AtomicFiles.writeOnce} leaves (its temp file is written and fsynced before it is
     * linked to the result's name) must not stay in the outbox forever.
     */
    @Test
    void aTempFileThatAKillLeftInTheOutboxIsRemovedAtTheNextStart() throws IOException {
        work = new Workdir(dir);
        Files.createDirectories(work.outbox());
        Path leftover = Files.writeString(work.outbox().resolve(".sandflow-0123456789abcdef.tmp"), "{\"summ");
        work.ask("a.json", "success");

        assertThat(work.runOnce()).isZero();

        assertThat(work.outbox().resolve("a.result.json")).exists();
        assertThat(leftover).doesNotExist();
    }

    private int results() throws IOException {
        if (!Files.isDirectory(work.outbox())) {
            return 0;
        }
        try (Stream<Path> files = Files.list(work.outbox())) {
            return (int) files.filter(p -> p.getFileName().toString().endsWith(".result.json")).count();
        }
    }
}
