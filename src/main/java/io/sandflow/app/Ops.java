package io.sandflow.app;

import io.sandflow.ops.StatusReport;
import io.sandflow.store.JobStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;
import java.util.stream.Stream;

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
        long inbox = countInbox(settings.path("sandflow.inbox"), Pattern.compile(settings.get("sandflow.include")));
        return new StatusReport(snapshot, inbox, breaker, Duration.ofNanos(System.nanoTime() - start));
    }

    private static long countInbox(Path inbox, Pattern include) {
        if (!Files.isDirectory(inbox)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(inbox)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> !n.startsWith(".") && include.matcher(n).matches()).count();
        } catch (IOException e) {
            return 0;
        }
    }
}
