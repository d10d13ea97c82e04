package io.sandflow.app;

import io.sandflow.ops.StatusReport;
import io.sandflow.store.JobStore;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** What {@code status} and {@code retry-failed} share: the store opened from the settings, and the status read. */
final class Ops {

    private Ops() {
    }

    /**
     * The store the daemon uses, with one connection: the default H2 URL has AUTO_SERVER=TRUE, so this works
     * while the daemon holds the file.
     */
    static JobStore openStore(Settings settings) {
        return JobStore.open(Engine.storeUrl(settings), System.getenv("SANDFLOW_STORE_USER"),
                System.getenv("SANDFLOW_STORE_PASSWORD"), 1);
    }

    static StatusReport status(JobStore store, Settings settings, int topReasons) {
        long start = System.nanoTime();
        var snapshot = store.status(Math.max(0, topReasons));
        String breaker = store.getState("breaker").orElse("CLOSED");
        long inbox = countInbox(settings);
        return new StatusReport(snapshot, inbox, breaker, Duration.ofNanos(System.nanoTime() - start));
    }

    /** Inputs waiting in the inbox: never a directory, FIFO, socket or device, which nothing will process. */
    private static long countInbox(Settings settings) {
        Path inbox = settings.path("sandflow.inbox");
        if (!Files.isDirectory(inbox)) {
            return 0;
        }
        return new InboxEntries(inbox, settings.get("sandflow.include"), InboxEntries.FollowLinks.of(settings))
                .countWaitingExactly();
    }
}
