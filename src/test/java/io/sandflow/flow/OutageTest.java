package io.sandflow.flow;

import io.sandflow.job.JobState;
import io.sandflow.store.JobRecord;
import io.sandflow.store.JobStore;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An API outage: every call answers 429 while the outage lasts. The circuit breaker must open after a few
 * calls and then let only one probe through per open period, so that the agent calls made during the outage are
 * bounded by the breaker and not by the number of files times the retries; jobs are parked, not failed, and all of
 * them finish once the API is back.
 */
@Tag("process")
class OutageTest {

    private static final int FILES = 20;
    private static final int WORKERS = 2;
    private static final int MIN_CALLS = 4;
    private static final Duration OPEN_FOR = Duration.ofSeconds(1);

    @TempDir
    Path dir;
    Workdir work;
    JobStore store;

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    @Test
    void anOutageParksTheQueueBehindTheBreakerAndEverythingFinishesWhenItEnds() throws Exception {
        work = new Workdir(dir);
        work.set("sandflow.workers", Integer.toString(WORKERS))
                .set("sandflow.breaker.min-calls", Integer.toString(MIN_CALLS))
                .set("sandflow.breaker.window", Integer.toString(MIN_CALLS))
                .set("sandflow.breaker.open-for", OPEN_FOR.toMillis() + "ms")
                // retries alone never fail a job here: only the breaker can hold the calls down
                .set("sandflow.retry.max-attempts", "50")
                .set("sandflow.once.max-wait", "60s");
        Path outage = Files.createFile(work.state.resolve("outage"));
        List<String> names = new ArrayList<>();
        for (int i = 0; i < FILES; i++) {
            String name = String.format("o-%02d.json", i);
            names.add(name);
            work.ask(name, "outage");
        }

        CompletableFuture<Integer> run = CompletableFuture.supplyAsync(work::runOnce);

        await("the first agent call").atMost(Duration.ofSeconds(30)).until(() -> DaemonProcess.callCount(work) > 0
                || run.isDone());
        store = JobStore.open("jdbc:h2:" + work.root.resolve("data/sandflow"), null, null);
        try {
            await("the breaker opens").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
                    .until(() -> store.getState("breaker").orElse("").startsWith("OPEN") || run.isDone());
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            // Seen once in five runs: the log showed the breaker cycling OPEN/HALF_OPEN but the store's state never
            // changed. The state is written on the sandflow-control thread after pausing intake: show where it is.
            dumpThreads();
            throw e;
        }
        long callsAtOpen = DaemonProcess.callCount(work);
        System.out.println("breaker: " + store.getState("breaker").orElse("?") + "; agent calls so far " + callsAtOpen);
        assertThat(run).isNotDone();

        // Keep the outage for a few open periods: until two half-open probes have been turned away
        await("two probes during the outage").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
                .until(() -> DaemonProcess.callCount(work) >= callsAtOpen + 2 || run.isDone());
        assertThat(run).isNotDone();
        long callsDuringOutage = DaemonProcess.callCount(work);
        Files.delete(outage);
        long endedAtMs = System.currentTimeMillis();
        // The outage as the agent saw it: from its first call (epoch ms in the stand-in log) to the flag's removal
        long firstCallMs = Long.parseLong(DaemonProcess.calls(work).get(0)[0]);
        Duration outageLength = Duration.ofMillis(endedAtMs - firstCallMs);
        assertThat(work.names(work.failed())).as("failed/ during the outage").isEmpty();

        assertThat(run.get(60, TimeUnit.SECONDS)).as("run --once exit code").isZero();

        long openPeriods = outageLength.toMillis() / OPEN_FOR.toMillis() + 1;
        long bound = MIN_CALLS + WORKERS + openPeriods;
        System.out.printf("agent calls during the outage: %d (%d when the breaker was seen open, then %d probes; "
                        + "outage %d ms); bound min-calls %d + in flight %d + one probe per open period %d = %d; "
                        + "%d files, up to 50 attempts each; total calls %d%n", callsDuringOutage, callsAtOpen,
                callsDuringOutage - callsAtOpen, outageLength.toMillis(), MIN_CALLS, WORKERS, openPeriods, bound, FILES,
                DaemonProcess.callCount(work));
        assertThat(callsDuringOutage).as("agent calls during the outage").isLessThanOrEqualTo(bound)
                .isLessThan(FILES);
        assertThat(work.names(work.failed())).isEmpty();
        assertThat(work.names(work.inbox())).isEmpty();
        assertThat(work.names(work.outbox())).hasSize(FILES);
        for (String name : names) {
            assertThat(work.outbox().resolve(name.replace(".json", ".result.json"))).exists();
            assertThat(store.findByName(name)).as(name).singleElement().extracting(JobRecord::state)
                    .isEqualTo(JobState.DONE);
        }
        assertThat(store.getState("breaker")).hasValueSatisfying(s -> assertThat(s).startsWith("CLOSED"));
    }

    private static void dumpThreads() {
        Thread.getAllStackTraces().forEach((thread, stack) -> {
            if (thread.getName().startsWith("sandflow-control") || thread.getName().contains("worker")) {
                System.out.println("thread " + thread.getName() + " " + thread.getState());
                for (StackTraceElement frame : stack) {
                    System.out.println("    at " + frame);
                }
            }
        });
    }
}
