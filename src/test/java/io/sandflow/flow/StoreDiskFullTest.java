package io.sandflow.flow;

import io.sandflow.job.JobState;
import io.sandflow.store.JobRecord;
import io.sandflow.store.JobStore;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The embedded H2 store's disk fills up in the middle of a batch, then space is freed: H2 closes its database on
 * the failed write, and the store must reopen it by itself. No input is moved to failed/, none is lost, and only
 * the jobs in flight when the disk filled run twice.
 */
@Tag("process")
class StoreDiskFullTest {

    private static final int FILES = 30;
    private static final int WORKERS = 2;

    @TempDir
    Path dir;

    @Test
    void aFullDiskHoldsTheBatchAndEveryInputFinishesOnceSpaceIsFreed() throws Exception {
        try (FullDisk disk = FullDisk.at(dir.resolve("disk"), "8m")) {
            System.out.println("full disk by " + disk.kind());
            int httpPort = LocalHttp.freePort();
            Workdir work = new Workdir(dir.resolve("work"));
            work.set("sandflow.store.url", disk.url()).set("sandflow.workers", Integer.toString(WORKERS))
                    .set("sandflow.agent.env.STANDIN_DELAY", "0.3").set("sandflow.http.port", Integer.toString(httpPort))
                    .set("sandflow.once.max-wait", "3m").set("sandflow.intake.recheck", "500ms");
            for (int i = 0; i < FILES; i++) {
                work.ask(String.format("in-%02d.json", i), "slow");
            }
            CompletableFuture<Integer> run = CompletableFuture.supplyAsync(work::runOnce);

            await().atMost(Duration.ofMinutes(1)).until(() -> work.names(work.outbox()).size() >= 6);
            disk.fill();
            long callsWhenFull = DaemonProcess.callCount(work);

            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                HttpResponse<String> ready = LocalHttp.get(httpPort, "/observe/health/ready");
                assertThat(ready.statusCode()).isEqualTo(503);
                assertThat(ready.body()).contains("job store");
            });
            await().atMost(Duration.ofSeconds(60)).until(() -> DaemonProcess.liveStandins(work).isEmpty());
            assertThat(work.names(work.failed())).as("nothing fails because the disk is full").isEmpty();
            assertThat(DaemonProcess.callCount(work) - callsWhenFull).as("no agent starts while the disk is full")
                    .isLessThanOrEqualTo(WORKERS);
            assertThat(run).as("run --once waits for the store").isNotDone();

            disk.free();
            assertThat(run.get(3, TimeUnit.MINUTES)).isZero();

            assertThat(work.names(work.failed())).isEmpty();
            assertThat(work.names(work.inbox())).isEmpty();
            assertThat(work.names(work.outbox())).hasSize(FILES);
            Map<String, Integer> calls = DaemonProcess.callsPerJob(work);
            assertThat(calls.values().stream().mapToLong(n -> n - 1).sum())
                    .as("only the jobs in flight when the disk filled ran again: %s", calls)
                    .isLessThanOrEqualTo(WORKERS);
            try (JobStore store = JobStore.open(disk.url(), null, null)) {
                for (int i = 0; i < FILES; i++) {
                    String name = String.format("in-%02d.json", i);
                    assertThat(store.findByName(name)).as(name).singleElement().extracting(JobRecord::state)
                            .isEqualTo(JobState.DONE);
                }
            }
        }
    }
}
