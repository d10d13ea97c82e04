package io.sandflow.flow;

import io.sandflow.job.JobState;
import io.sandflow.store.JobRecord;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A folder Sandflow writes to (outbox, failed, the inbox itself) that cannot be written is a fault of its
 * surroundings: the queue waits with the reason on readiness, no agent run is spent on a result that cannot be
 * kept, nothing moves to failed/ for it, no copies pile up, and the batch resumes once the folder is writable.
 * The daemon runs as a child process under a non-root user, since root writes through any mode.
 */
@Tag("process")
class FolderFaultTest {

    private static NonRootUser.Wrapper user;

    @TempDir
    Path dir;
    private Workdir work;
    private Process daemon;
    private int httpPort;

    @BeforeAll
    static void nonRootUser() {
        user = NonRootUser.wrapper();
    }

    @AfterEach
    void stop() throws Exception {
        if (work != null) {
            for (Path folder : List.of(work.inbox(), work.outbox(), work.failed(), work.archive())) {
                if (Files.isDirectory(folder)) {
                    Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwxr-xr-x"));
                }
            }
        }
        if (daemon != null && daemon.isAlive()) {
            DaemonProcess.terminate(daemon, Duration.ofSeconds(20));
        }
        if (work != null) {
            DaemonProcess.printLog(work);
        }
    }

    private void setUp() throws Exception {
        Assumptions.assumeTrue(user.available(), () -> "skipped: " + user.unavailable());
        httpPort = LocalHttp.freePort();
        work = new Workdir(dir.resolve("work"));
        work.set("sandflow.http.port", Integer.toString(httpPort)).set("sandflow.once.max-wait", "2m")
                .set("sandflow.intake.recheck", "200ms");
        for (Path folder : List.of(work.outbox(), work.failed(), work.archive())) {
            Files.createDirectories(folder);
        }
    }

    private void start() throws Exception {
        NonRootUser.own(work.root);
        daemon = DaemonProcess.start(work, user.prefix(), "run", "--once");
    }

    private static void readOnly(Path folder) throws IOException {
        Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("r-xr-xr-x"));
    }

    private static void writable(Path folder) throws IOException {
        Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** Readiness is down and names the folder. */
    private void awaitNotReadyFor(Path folder) {
        await().atMost(Duration.ofMinutes(1)).ignoreExceptionsInstanceOf(java.net.ConnectException.class)
                .untilAsserted(() -> {
                    HttpResponse<String> ready = LocalHttp.get(httpPort, "/observe/health/ready");
                    assertThat(ready.statusCode()).isEqualTo(503);
                    assertThat(ready.body().replace("\\", "")).contains("cannot write to " + folder);
                });
    }

    private int exitCode() throws InterruptedException {
        assertThat(daemon.waitFor(2, TimeUnit.MINUTES)).as("the run ends").isTrue();
        return daemon.exitValue();
    }

    @Test
    void aReadOnlyOutboxHoldsTheQueueBeforeAnyAgentRunsAndTheBatchResumesWhenItIsWritable() throws Exception {
        setUp();
        for (String name : List.of("a.json", "b.json", "c.json")) {
            work.ask(name, "success");
        }
        readOnly(work.outbox());
        start();

        awaitNotReadyFor(work.outbox());
        assertThat(DaemonProcess.callCount(work)).as("no agent run is paid for a result that cannot be kept")
                .isZero();
        assertThat(work.names(work.failed())).isEmpty();
        assertThat(work.names(work.inbox())).containsExactly("a.json", "b.json", "c.json");

        writable(work.outbox());

        assertThat(exitCode()).isZero();
        assertThat(work.names(work.outbox())).containsExactly("a.result.json", "b.result.json", "c.result.json");
        assertThat(work.names(work.archive())).containsExactly("a.json", "b.json", "c.json");
        assertThat(work.names(work.failed())).isEmpty();
        assertThat(DaemonProcess.callCount(work)).isEqualTo(3);
    }

    @Test
    void anOutboxThatBecomesReadOnlyWhileTheAgentRunsLeavesTheJobWaitingNotFailed() throws Exception {
        setUp();
        work.set("sandflow.agent.env.STANDIN_DELAY", "2");
        work.ask("slow.json", "slow");
        start();
        await().atMost(Duration.ofMinutes(1)).until(() -> DaemonProcess.callCount(work) == 1);
        readOnly(work.outbox());

        awaitNotReadyFor(work.outbox());
        // The agent has answered and the job has ended its run: its result could not be written
        await().atMost(Duration.ofSeconds(30))
                .until(() -> DaemonProcess.agentPids(work).stream().noneMatch(Workdir::running));
        await().atMost(Duration.ofSeconds(30)).until(() -> state("slow.json") != JobState.RUNNING);
        assertThat(state("slow.json")).as("pending again, not failed").isEqualTo(JobState.PENDING);
        assertThat(work.names(work.failed())).isEmpty();
        assertThat(work.names(work.inbox())).containsExactly("slow.json");

        writable(work.outbox());

        assertThat(exitCode()).isZero();
        assertThat(work.names(work.outbox())).containsExactly("slow.result.json");
        assertThat(work.names(work.archive())).containsExactly("slow.json");
        assertThat(work.names(work.failed())).isEmpty();
    }

    @Test
    void aReadOnlyFailedFolderHoldsAFailingJobInsteadOfRunningItEveryPoll() throws Exception {
        setUp();
        work.ask("rejected.json", "bad-request");
        readOnly(work.failed());
        start();

        awaitNotReadyFor(work.failed());
        assertThat(DaemonProcess.callCount(work)).isZero();
        assertThat(work.names(work.inbox())).containsExactly("rejected.json");

        writable(work.failed());

        assertThat(exitCode()).as("one job failed").isEqualTo(1);
        assertThat(DaemonProcess.callCount(work)).as("the failing job ran once").isEqualTo(1);
        assertThat(work.names(work.failed())).containsExactly("rejected.json", "rejected.json.error.json");
        Map<String, List<JobRecord>> ledger = DaemonProcess.ledger(work, List.of("rejected.json"));
        assertThat(ledger.get("rejected.json")).singleElement().extracting(JobRecord::state)
                .isEqualTo(JobState.FAILED);
    }

    @Test
    void aReadOnlyInboxHoldsTheQueueAndLeavesNoCopiesBehind() throws Exception {
        setUp();
        work.ask("a.json", "success");
        work.ask("b.json", "bad-request");
        NonRootUser.own(work.root);
        readOnly(work.inbox());
        start();

        awaitNotReadyFor(work.inbox());
        assertThat(DaemonProcess.callCount(work)).isZero();
        assertThat(work.names(work.archive())).isEmpty();
        assertThat(work.names(work.failed())).isEmpty();

        writable(work.inbox());

        assertThat(exitCode()).isEqualTo(1);
        assertThat(work.names(work.inbox())).isEmpty();
        assertThat(work.names(work.archive())).containsExactly("a.json");
        assertThat(work.names(work.failed())).containsExactly("b.json", "b.json.error.json");
        assertThat(work.names(work.outbox())).containsExactly("a.result.json");
    }

    /** The job's state in the ledger, read through the daemon that holds the store (H2's AUTO_SERVER). */
    private JobState state(String name) {
        String url = "jdbc:h2:" + work.root.resolve("data/sandflow") + ";AUTO_SERVER=TRUE";
        try (io.sandflow.store.JobStore store = io.sandflow.store.JobStore.open(url, null, null)) {
            return store.findByName(name).stream().map(JobRecord::state).findFirst().orElse(null);
        }
    }
}
