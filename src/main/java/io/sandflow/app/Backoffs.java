package io.sandflow.app;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Inbox files whose jobs wait out a backoff, each until it is due (bean {@code backoffs}). The intake's filter
 * passes over them, as it does over files another node holds ({@link ClaimedElsewhere}), so that a waiting file
 * costs neither a worker nor a claim in the store on every poll; once due, the intake route sends the file ahead of
 * the files queued behind it ({@link #isRetry}). The store keeps the authoritative not-before time: a file this map
 * does not know (after a restart, or another node's backoff) is claimed once, comes back not due, and is
 * remembered here.
 */
public final class Backoffs {

    /** A due file not taken by any poll for this long has left the inbox: its entry goes. */
    private static final long FORGET_AFTER_MS = Duration.ofMinutes(10).toMillis();

    private final Map<String, Long> dueAt = new ConcurrentHashMap<>();

    /** The job of this inbox file may not run again for {@code wait}. */
    void waitFor(String name, Duration wait) {
        dueAt.put(name, System.currentTimeMillis() + Math.max(0, wait.toMillis()));
    }

    /** Whether the file's job still waits out its backoff. */
    boolean skip(String name) {
        Long due = dueAt.get(name);
        return due != null && due > System.currentTimeMillis();
    }

    /**
     * Whether this file, taken by a poll, is a job whose backoff has ended (asked once per file a poll takes; the
     * answer is forgotten): the intake route then gives it a worker ahead of the queue.
     */
    public boolean isRetry(String name) {
        return name != null && dueAt.remove(name) != null;
    }

    /** Whether any job still waits for its backoff: the batch is not stalled while one does. */
    boolean anyWaiting() {
        long now = System.currentTimeMillis();
        return dueAt.values().stream().anyMatch(due -> due > now);
    }

    /** Drops the entries of files long due that no poll took (they left the inbox); called once per poll. */
    void purge() {
        long before = System.currentTimeMillis() - FORGET_AFTER_MS;
        dueAt.values().removeIf(due -> due < before);
    }
}
