package io.sandflow.flow;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An outbox on a full file system holds the queue before any agent runs, and the batch resumes once space is
 * freed. The outbox is a small tmpfs; the test is skipped where the machine cannot mount one.
 */
@Tag("process")
class FullFolderTest {

    @TempDir
    Path dir;

    @Test
    void aFullOutboxHoldsTheQueueAndTheBatchResumesOnceSpaceIsFreed() throws Exception {
        Workdir work = new Workdir(dir.resolve("work"));
        try (FullDisk outbox = FullDisk.at(work.outbox(), "32m")) {
            Assumptions.assumeTrue(outbox instanceof FullDisk.Tmpfs, "skipped: this machine cannot mount a tmpfs");
            int port = LocalHttp.freePort();
            work.set("sandflow.http.port", Integer.toString(port)).set("sandflow.once.max-wait", "2m")
                    .set("sandflow.intake.recheck", "200ms");
            for (String name : List.of("a.json", "b.json")) {
                work.ask(name, "success");
            }
            outbox.fill();
            CompletableFuture<Integer> run = CompletableFuture.supplyAsync(work::runOnce);

            await().atMost(Duration.ofMinutes(1)).ignoreExceptionsInstanceOf(java.net.ConnectException.class)
                    .untilAsserted(() -> {
                        HttpResponse<String> ready = LocalHttp.get(port, "/observe/health/ready");
                        assertThat(ready.statusCode()).isEqualTo(503);
                        assertThat(ready.body().replace("\\", "")).contains("cannot write to " + work.outbox())
                                .contains("full");
                    });
            assertThat(DaemonProcess.callCount(work)).as("no agent run for a result with no room").isZero();
            assertThat(work.names(work.failed())).isEmpty();
            assertThat(work.names(work.inbox())).containsExactly("a.json", "b.json");

            outbox.free();

            assertThat(run.get(2, TimeUnit.MINUTES)).isZero();
            assertThat(work.names(work.outbox())).containsExactly("a.result.json", "b.result.json");
            assertThat(work.names(work.failed())).isEmpty();
            assertThat(work.names(work.archive())).containsExactly("a.json", "b.json");
        }
    }
}
