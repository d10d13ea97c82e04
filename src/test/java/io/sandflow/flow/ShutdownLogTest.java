package io.sandflow.flow;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What the daemon logs after SIGTERM: each job that ends during the grace period (one finishing in time, one killed
 * at its end), and a last line saying what was left pending. Nothing is lost to Log4j stopping early.
 */
@Tag("process")
class ShutdownLogTest {

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
