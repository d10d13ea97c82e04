package io.sandflow.flow;

import io.sandflow.cli.Sandflow;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * One working folder, one node: a second daemon on a working folder refuses to start while read-only commands
 * still work, and a working folder whose inbox is not the one the store serves refuses to start instead of
 * skipping the other inbox's jobs as done.
 */
@Tag("process")
class OneNodeTest {

    @RegisterExtension
    final Stderr err = new Stderr();

    @TempDir
    Path dir;
    private Process first;
    private Workdir work;

    @AfterEach
    void stop() throws Exception {
        if (first != null && first.isAlive()) {
            DaemonProcess.terminate(first, Duration.ofSeconds(20));
        }
        if (work != null) {
            DaemonProcess.printLog(work);
        }
    }

    @Test
    void aSecondDaemonOnAWorkingFolderRefusesToStartAndStatusStillAnswers() throws Exception {
        work = new Workdir(dir.resolve("work"));
        work.set("sandflow.agent.env.STANDIN_DELAY", "0.2");
        for (int i = 0; i < 10; i++) {
            work.ask(String.format("in-%02d.json", i), "slow");
        }
        first = DaemonProcess.start(work, "run");
        await().atMost(Duration.ofMinutes(1)).until(() -> DaemonProcess.callCount(work) > 0);

        Process second = DaemonProcess.start(work, "run");
        assertThat(second.waitFor(1, TimeUnit.MINUTES)).isTrue();
        assertThat(second.exitValue()).as("a configuration error").isEqualTo(2);
        String log = Files.readString(DaemonProcess.log(work), StandardCharsets.UTF_8);
        assertThat(log).contains("sandflow: another Sandflow daemon (pid " + first.pid()
                + ") already runs on the working folder " + work.root);

        StringWriter status = new StringWriter();
        assertThat(Sandflow.execute(new PrintWriter(status), "-C", work.root.toString(), "status"))
                .as("status works while the daemon runs").isZero();
        assertThat(status.toString()).contains("done");
        assertThat(doctor()).as("doctor does not stop at the running daemon").doesNotContain("another Sandflow daemon");

        await().atMost(Duration.ofMinutes(1)).until(() -> work.names(work.outbox()).size() == 10);
        assertThat(DaemonProcess.terminate(first, Duration.ofSeconds(30))).as("a clean stop").isNotEqualTo(-1);
        assertThat(DaemonProcess.callsPerJob(work).values()).as("each job ran once").containsOnly(1);
    }

    @Test
    void twoWorkingFoldersOnOneStoreWithDifferentInboxesRefuseToShareIt() throws Exception {
        Path store = dir.resolve("shared-store");
        String url = "jdbc:h2:" + store.resolve("sandflow") + ";AUTO_SERVER=TRUE";
        Workdir one = new Workdir(dir.resolve("one")).set("sandflow.store.url", url);
        Workdir two = new Workdir(dir.resolve("two")).set("sandflow.store.url", url);
        for (Workdir w : List.of(one, two)) {
            w.ask("a.json", "success");
            w.ask("b.json", "success");
        }
        assertThat(one.runOnce()).isZero();
        assertThat(one.names(one.outbox())).containsExactly("a.result.json", "b.result.json");

        int code = two.runOnce();

        assertThat(code).isEqualTo(2);
        assertThat(err.text()).contains("sandflow.store.url=").contains("serves another inbox")
                .contains("sandflow.inbox=" + two.inbox()).doesNotContain("\tat ");
        assertThat(two.names(two.inbox())).as("left alone").containsExactly("a.json", "b.json");
        assertThat(two.names(two.archive())).isEmpty();
        assertThat(two.names(two.outbox())).isEmpty();
    }

    @Test
    void aNodeIdThatALiveNodeOnAnotherHostUsesIsRefused() throws Exception {
        work = new Workdir(dir.resolve("work")).set("sandflow.node.id", "worker-a");
        work.ask("a.json", "success");
        try (io.sandflow.store.JobStore store = io.sandflow.store.JobStore.open(
                "jdbc:h2:" + work.root.resolve("data/sandflow"), null, null)) {
            store.heartbeat("worker-a", "another-host", 1);
        }

        int code = work.runOnce();

        assertThat(code).isEqualTo(2);
        assertThat(err.text())
                .contains("sandflow.node.id=worker-a is in use by a node on host another-host");
        assertThat(work.names(work.inbox())).containsExactly("a.json");
        assertThat(DaemonProcess.callCount(work)).isZero();
        work = null;
    }

    private String doctor() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream original = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            Sandflow.execute("-C", work.root.toString(), "-Dsandflow.sandbox.kind=none",
                    "-Dsandflow.sandbox.allow-unsandboxed=true", "doctor");
        } finally {
            System.setOut(original);
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
