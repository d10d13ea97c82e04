package io.sandflow.flow;

import io.sandflow.job.JobState;
import io.sandflow.store.JobRecord;
import io.sandflow.store.JobStore;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The PostgreSQL store stops in the middle of a batch and starts again: no input is moved to failed/, none is lost,
 * only the jobs in flight when it stopped run twice, readiness says why the daemon waits, and {@code run --once}
 * waits for the store within {@code sandflow.once.max-wait}, then exits 3.
 */
@Tag("process")
class StoreOutageTest {

    private static final int FILES = 30;
    private static final int WORKERS = 2;

    @TempDir
    Path dir;
    private EmbeddedPostgres postgres;
    private int port;

    @AfterEach
    void stopPostgres() throws IOException {
        if (postgres != null) {
            postgres.close();
        }
    }

    /** Starts (or starts again) the server on the same data folder and port. */
    private void startPostgres() throws IOException {
        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder().setDataDirectory(dir.resolve("pg"))
                .setCleanDataDirectory(false);
        if (port != 0) {
            builder.setPort(port);
        }
        postgres = builder.start();
        port = postgres.getPort();
    }

    private void stopPostgresNow() throws IOException {
        postgres.close();
        postgres = null;
    }

    private String url() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres&connectTimeout=2";
    }

    private Workdir work(Path root, int httpPort) throws IOException {
        Workdir work = new Workdir(root);
        work.set("sandflow.store.url", url()).set("sandflow.workers", Integer.toString(WORKERS))
                .set("sandflow.agent.env.STANDIN_DELAY", "0.3").set("sandflow.http.port", Integer.toString(httpPort))
                .set("sandflow.cluster.lease", "5s");
        for (int i = 0; i < FILES; i++) {
            work.ask(String.format("in-%02d.json", i), "slow");
        }
        return work;
    }

    @Test
    void aStoppedStoreHoldsTheBatchAndEveryInputFinishesOnceItIsBack() throws Exception {
        startPostgres();
        int httpPort = LocalHttp.freePort();
        Workdir work = work(dir.resolve("work"), httpPort).set("sandflow.once.max-wait", "3m");
        CompletableFuture<Integer> run = CompletableFuture.supplyAsync(work::runOnce);

        await().atMost(Duration.ofMinutes(1)).until(() -> work.names(work.outbox()).size() >= 6);
        stopPostgresNow();
        long callsAtStop = DaemonProcess.callCount(work);

        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            HttpResponse<String> ready = LocalHttp.get(httpPort, "/observe/health/ready");
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(ready.body()).contains("job store");
        });
        // The jobs in flight when it stopped have ended by now, one way or another, and nothing else starts
        await().atMost(Duration.ofSeconds(60)).until(() -> DaemonProcess.liveStandins(work).isEmpty());
        long callsDuringOutage = DaemonProcess.callCount(work) - callsAtStop;
        assertThat(work.names(work.failed())).as("nothing fails because the store is down").isEmpty();
        assertThat(callsDuringOutage).as("no agent starts while the store is down").isLessThanOrEqualTo(WORKERS);

        startPostgres();
        assertThat(run.get(3, java.util.concurrent.TimeUnit.MINUTES)).isZero();

        assertOneFinishedRunEach(work);
    }

    @Test
    void runOnceWaitsForTheStoreThenExitsThreeAndTheNextRunFinishesTheBatch() throws Exception {
        startPostgres();
        Workdir work = work(dir.resolve("work"), 0).set("sandflow.once.max-wait", "3s");
        CompletableFuture<Integer> run = CompletableFuture.supplyAsync(work::runOnce);

        await().atMost(Duration.ofMinutes(1)).until(() -> work.names(work.outbox()).size() >= 4);
        stopPostgresNow();

        assertThat(run.get(2, java.util.concurrent.TimeUnit.MINUTES)).as("a store that stays down is exit 3")
                .isEqualTo(3);
        assertThat(work.names(work.failed())).isEmpty();
        assertThat(work.names(work.inbox()).size() + work.names(work.outbox()).size())
                .as("every input is in the inbox or the outbox").isEqualTo(FILES);

        startPostgres();
        assertThat(work.runOnce()).isZero();

        assertOneFinishedRunEach(work);
    }

    /** Every input has its output and one DONE row; the agent ran at most twice for the jobs in flight at the stop. */
    private void assertOneFinishedRunEach(Workdir work) {
        assertThat(work.names(work.failed())).isEmpty();
        assertThat(work.names(work.inbox())).isEmpty();
        assertThat(work.names(work.outbox())).hasSize(FILES);
        Map<String, Integer> calls = DaemonProcess.callsPerJob(work);
        long extra = calls.values().stream().mapToLong(n -> n - 1).sum();
        assertThat(extra).as("only the jobs in flight when the store stopped ran again: %s", calls)
                .isLessThanOrEqualTo(WORKERS);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < FILES; i++) {
            names.add(String.format("in-%02d.json", i));
        }
        try (JobStore store = JobStore.open(url(), null, null)) {
            for (String name : names) {
                assertThat(store.findByName(name)).as(name).singleElement().extracting(JobRecord::state)
                        .isEqualTo(JobState.DONE);
            }
        }
    }
}
