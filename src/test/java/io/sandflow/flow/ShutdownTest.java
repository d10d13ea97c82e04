package io.sandflow.flow;

import io.sandflow.job.JobState;
import io.sandflow.store.JobRecord;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Graceful shutdown: SIGTERM to a daemon whose agents hang. It must stop, kill every agent's process tree once
 * sandflow.shutdown.grace has passed, leave the inputs in the inbox with their jobs PENDING (not FAILED), and a restart
 * must finish them. How long the stop takes is bench/bounds.sh's to measure.
 */
@Tag("process")
class ShutdownTest {

    private static final Duration GRACE = Duration.ofSeconds(1);

    @TempDir
    Path dir;
    Workdir work;
    Process daemon;

    @AfterEach
    void stop() {
        if (daemon != null) {
            daemon.destroyForcibly();
        }
        if (work != null) {
            DaemonProcess.printLog(work);
        }
    }

    @Test
    void sigtermKillsHungAgentsWithinTheGraceAndLeavesTheirJobsPendingForTheNextRun() throws Exception {
        work = new Workdir(dir);
        // The inputs name no behaviour: this run's agents hang (with a child each), the restart's succeed
        work.set("sandflow.workers", "2")
                .set("sandflow.shutdown.grace", GRACE.toMillis() + "ms")
                .set("sandflow.agent.timeout", "5m")
                .set("sandflow.agent.env.STANDIN_BEHAVIOUR", "hang-with-child");
        List<String> names = List.of("a.json", "b.json", "c.json");
        for (String name : names) {
            work.drop(name, "{\"Name\": \"" + name + "\"}\n");
        }

        daemon = DaemonProcess.start(work, "run");
        // Both workers have an agent running, and each agent has forked its child
        await("two agents running").atMost(Duration.ofSeconds(60)).until(() ->
                DaemonProcess.callCount(work) >= 2 && busyNames().stream().allMatch(this::forked));
        List<String> interrupted = busyNames();
        assertThat(interrupted).hasSize(2);

        assertThat(daemon.toHandle().destroy()).as("SIGTERM sent").isTrue();
        assertThat(daemon.waitFor(60, TimeUnit.SECONDS)).as("the daemon exits").isTrue();
        // 128 + 15: it was a SIGTERM (ProcessHandle.destroy()), handled by the JVM's shutdown
        assertThat(daemon.exitValue()).isEqualTo(143);

        // No agent survives: the agents themselves (logged pids) and the children they forked
        List<Long> pids = new ArrayList<>(DaemonProcess.agentPids(work));
        for (String name : interrupted) {
            pids.addAll(work.recordedPids(name));
        }
        assertThat(pids).hasSizeGreaterThanOrEqualTo(4);
        await("every agent process killed").atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(pids).noneMatch(Workdir::running));

        // Nothing failed, nothing finished: the inputs wait in the inbox, their jobs pending
        assertThat(work.names(work.inbox())).containsExactlyElementsOf(names);
        assertThat(work.names(work.failed())).isEmpty();
        assertThat(work.names(work.outbox())).isEmpty();
        Map<String, List<JobRecord>> ledger = DaemonProcess.ledger(work, names);
        for (String name : interrupted) {
            assertThat(ledger.get(name)).as("ledger of interrupted " + name).singleElement()
                    .extracting(JobRecord::state).isEqualTo(JobState.PENDING);
        }
        ledger.forEach((name, rows) -> assertThat(rows).as("ledger of " + name)
                .allSatisfy(r -> assertThat(r.state()).isEqualTo(JobState.PENDING)));

        // A restart with an agent that works finishes them, as the same jobs
        work.set("sandflow.agent.env.STANDIN_BEHAVIOUR", "success");
        assertThat(work.runOnce()).isZero();
        assertThat(work.names(work.inbox())).isEmpty();
        assertThat(work.names(work.outbox())).containsExactly("a.result.json", "b.result.json", "c.result.json");
        ledger = DaemonProcess.ledger(work, names);
        ledger.forEach((name, rows) -> assertThat(rows).as("ledger of " + name).singleElement()
                .extracting(JobRecord::state).isEqualTo(JobState.DONE));
        for (String name : interrupted) {
            assertThat(work.agentCalls(name)).as("runs of " + name + ": the killed one and the one that worked")
                    .isEqualTo(2);
        }
    }

    /** The inputs an agent was started for, from the stand-in log. */
    private List<String> busyNames() {
        return DaemonProcess.calls(work).stream().map(c -> c[2]).distinct().toList();
    }

    private boolean forked(String name) {
        try {
            return !work.recordedPids(name).isEmpty();
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /**
     * What the daemon logs after SIGTERM: each job that ends during the grace period (one finishing in time, one
     * killed at its end), and a last line saying what was left pending. Nothing is lost to Log4j stopping early.
     */
    @Test
    void jobsEndingDuringTheGraceAreLoggedAndTheLastLineSaysWhatIsLeftPending() throws Exception {
        work = new Workdir(dir);
        work.set("sandflow.workers", "2").set("sandflow.shutdown.grace", "4s").set("sandflow.agent.timeout", "5m")
                .set("sandflow.agent.env.STANDIN_DELAY", "2");
        work.ask("a-finishes.json", "slow");
        work.ask("b-hangs.json", "hang");
        work.ask("c-waits.json", "success");

        daemon = DaemonProcess.start(work, "run");
        await("both agents running").atMost(Duration.ofSeconds(60)).until(() -> DaemonProcess.callCount(work) >= 2);
        daemon.toHandle().destroy();
        assertThat(daemon.waitFor(40, TimeUnit.SECONDS)).isTrue();

        String log = Files.readString(DaemonProcess.log(work), StandardCharsets.UTF_8);
        List<String> lines = log.lines().filter(l -> !l.isBlank()).toList();
        assertThat(log).doesNotContain("Unable to register Log4j shutdown hook");
        assertThat(lines).anySatisfy(l -> assertThat(l).contains("ok a-finishes.json"));
        assertThat(lines).anySatisfy(l -> assertThat(l).contains("b-hangs.json").contains("pending"));
        assertThat(lines.get(lines.size() - 1)).contains("stopped").contains("2 input(s) left pending")
                .contains("b-hangs.json");
        assertThat(work.names(work.outbox())).containsExactly("a-finishes.result.json");
        assertThat(work.names(work.inbox())).containsExactly("b-hangs.json", "c-waits.json");
    }
}
