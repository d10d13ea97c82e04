package io.sandflow.flow;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Inbox files whose jobs wait out a backoff. The intake's filter passes over them, as it does over files another
 * node holds ({@link ClaimedElsewhere}), so that a waiting file costs neither a worker nor a claim in the store on
 * every poll. When one is due it is handed to the {@code retries} route at once, ahead of the files queued behind
 * the intake, rather than at the intake's next poll. The store keeps the authoritative not-before time: a file
 * this map does not know (after a restart, or another node's backoff) is claimed once, comes back not due, and is
 * remembered here.
 */
final class Backoffs {

    private static final Logger LOG = LoggerFactory.getLogger("sandflow.intake");

    /** One waiting file: where it is, and whether it has been handed on (then the intake still passes over it). */
    private static final class Entry {
        final Path file;
        volatile boolean dispatched;

        Entry(Path file) {
            this.file = file;
        }
    }

    private final Map<String, Entry> waiting = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer;
    private volatile Consumer<Path> dispatcher = file -> {
        throw new IllegalStateException("no retries route yet");
    };

    Backoffs(ScheduledExecutorService timer) {
        this.timer = timer;
    }

    /** Where a due file goes: the retries route. */
    void dispatchWith(Consumer<Path> dispatcher) {
        this.dispatcher = dispatcher;
    }

    /** The job of this inbox file may not run again for {@code wait}; it is handed on when that has passed. */
    void waitFor(Path file, Duration wait) {
        String name = file.getFileName().toString();
        Entry entry = new Entry(file);
        waiting.put(name, entry);
        try {
            timer.schedule(() -> dispatch(name, entry), Math.max(0, wait.toMillis()), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException stopping) {
            // Sandflow is stopping: the store keeps the not-before time for the next start
            waiting.remove(name, entry);
        }
    }

    private void dispatch(String name, Entry entry) {
        if (waiting.get(name) != entry) {
            return;
        }
        entry.dispatched = true;
        try {
            dispatcher.accept(entry.file);
        } catch (RuntimeException e) {
            // Not handed on (Camel is stopping, say): the intake takes the file at a later poll instead
            waiting.remove(name, entry);
            LOG.debug("{}: its retry goes through the intake instead: {}", name, e.toString());
        }
    }

    /** Whether the intake passes over this file: its job waits out a backoff, or has just been handed on. */
    boolean skip(String name) {
        return waiting.containsKey(name);
    }

    /** The job of this file ended its run, however: a retry handed on is the intake's business again. */
    void done(String name) {
        Entry entry = waiting.get(name);
        if (entry != null && entry.dispatched) {
            waiting.remove(name, entry);
        }
    }

    /** Whether any job waits for its backoff: the batch is not stalled while one does. */
    boolean anyWaiting() {
        return !waiting.isEmpty();
    }
}
