package io.sandflow.observe;

import io.sandflow.job.JobState;
import io.sandflow.store.JobStore;
import io.sandflow.store.StatusSnapshot;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Where the batch stands, for the progress line and the queue gauges: the store's counts and the inbox's size,
 * both read at most once per {@code sandflow.observe.refresh} (bean {@code standing}, refreshed by the
 * {@code observe} route), with this node's own jobs counted in memory as their progress lines come out. A
 * finished job therefore costs no query and no directory listing.
 *
 * <p>A read never falls between a job's store write and the in-memory count that tells it apart (see
 * {@link #ended} and {@link #refresh}), so each job counts once in the total and once in done or failed.
 */
public final class Standing {

    private static final Logger LOG = LoggerFactory.getLogger("sandflow.observe");

    /** This node's store writes that made a job DONE or FAILED, since start. */
    private final AtomicLong doneWritten = new AtomicLong();
    private final AtomicLong failedWritten = new AtomicLong();
    /** Those of them whose progress line is out: a job counts in the figures from its own line on. */
    private final AtomicLong doneReported = new AtomicLong();
    private final AtomicLong failedReported = new AtomicLong();
    /**
     * Endings share it, a refresh takes it alone: a job ending while the store is read could otherwise be in the
     * snapshot but not in the marks, or be in the inbox count as well.
     */
    private final ReadWriteLock endings = new ReentrantReadWriteLock();

    private final Supplier<JobStore> store;
    /** The inbox entries that wait to be processed, by name. */
    private final LongSupplier inboxCount;
    private final Duration refresh;
    /**
     * How long a view is used before it is read again: the refresh interval, or 20 times what the last read cost
     * when that is longer. Counting states over a store of a million rows, or listing an inbox of 100,000 files,
     * takes a sizeable part of a second on a busy machine; repeating it every 2 s would take a steady share of
     * the CPU that grows with the store and the inbox. Stretching the interval caps that share at 5%, and so the
     * time job endings spend waiting for a read.
     */
    private volatile Duration validFor;
    private volatile View view;

    public Standing(Supplier<JobStore> store, LongSupplier inboxCount, Duration refresh) {
        this.store = store;
        this.inboxCount = inboxCount;
        this.refresh = refresh;
        this.validFor = refresh;
    }

    /**
     * The store and inbox at one moment, with how many of the store's DONE and FAILED jobs this node had written
     * since start: those count by their progress lines instead, so that none counts twice or ahead of its line.
     */
    record View(StatusSnapshot store, long inboxFiles, Instant at, long doneMark, long failedMark) {

        long count(JobState state) {
            return store.count(state);
        }

        /** Every job known to the store plus the inbox files it does not know yet (the inbox holds the unfinished). */
        long total() {
            long unfinished = count(JobState.PENDING) + count(JobState.RUNNING) + count(JobState.PARKED);
            return count(JobState.DONE) + count(JobState.FAILED) + Math.max(inboxFiles, unfinished);
        }

        /** Inputs that wait for a worker: the store's pending jobs, or the inbox files not running nor parked. */
        long waiting() {
            long notStarted = inboxFiles - count(JobState.RUNNING) - count(JobState.PARKED);
            return Math.max(count(JobState.PENDING), Math.max(0, notStarted));
        }
    }

    /** A store write that ends a job, with the move of its input out of the inbox when that goes with it. */
    @FunctionalInterface
    public interface Ending {
        /** Whether the store took the write: a stale claim changes nothing. */
        boolean write() throws IOException;
    }

    /**
     * Ends one of this node's jobs as DONE or FAILED with its input out of the inbox once {@code ending} returns,
     * in one step that no refresh falls into. The job counts in the figures when it is {@link #reported}.
     *
     * @return whether the store took the write
     */
    public boolean ended(JobState state, Ending ending) throws IOException {
        Lock lock = endings.readLock();
        lock.lock();
        try {
            if (!ending.write()) {
                return false;
            }
            (state == JobState.DONE ? doneWritten : failedWritten).incrementAndGet();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** A job's progress line is out: from now on the figures count the ending it wrote ({@code stored}), if any. */
    void reported(JobState stored) {
        if (stored == JobState.DONE) {
            doneReported.incrementAndGet();
        } else if (stored == JobState.FAILED) {
            failedReported.incrementAndGet();
        }
    }

    /** Done jobs: the others' as the view has them, plus this node's reported ones. */
    long done(View v) {
        return v.count(JobState.DONE) - v.doneMark() + doneReported.get();
    }

    /** Failed jobs: the others' as the view has them, plus this node's reported ones. */
    long failed(View v) {
        return v.count(JobState.FAILED) - v.failedMark() + failedReported.get();
    }

    /** The latest view, read now when there is none yet or it is older than the refresh interval. */
    public View view() {
        View v = view;
        if (v == null || Duration.between(v.at(), Instant.now()).compareTo(validFor) >= 0) {
            v = refresh();
        }
        return v;
    }

    /**
     * Reads the store and counts the inbox (observe route, or the first reader). A store that cannot be read keeps
     * the previous view: progress lines and gauges go on, the readiness check reports the store.
     */
    public synchronized View refresh() {
        View current = view;
        if (current != null && Duration.between(current.at(), Instant.now()).compareTo(validFor.dividedBy(2)) < 0) {
            // Another thread refreshed while this one waited for the lock, or the last read was costly (validFor)
            return current;
        }
        long started = System.nanoTime();
        StatusSnapshot snapshot;
        long inboxFiles;
        long doneMark;
        long failedMark;
        // Endings wait meanwhile, so each of this node's jobs is either ended in the snapshot, in the marks and out
        // of the inbox count, or in none of them. The inbox is listed under the lock too: listed before, it could
        // still hold a file whose job ends before the store is read; listed after, it could miss one whose job ends
        // in between, which the store does not count yet.
        Lock lock = endings.writeLock();
        lock.lock();
        try {
            try {
                snapshot = store.get().status(0);
            } catch (RuntimeException e) {
                LOG.debug("cannot read the store's counts: {}", e.getMessage());
                if (current != null) {
                    return current;
                }
                snapshot = new StatusSnapshot(Instant.now(), java.util.Map.of(), java.math.BigDecimal.ZERO, 0, 0, 0,
                        0, java.util.List.of(), java.util.List.of());
            }
            doneMark = doneWritten.get();
            failedMark = failedWritten.get();
            inboxFiles = inboxCount.getAsLong();
        } finally {
            lock.unlock();
        }
        view = new View(snapshot, inboxFiles, Instant.now(), doneMark, failedMark);
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        Duration stretched = took.multipliedBy(20);
        validFor = stretched.compareTo(refresh) > 0 ? stretched : refresh;
        return view;
    }
}
