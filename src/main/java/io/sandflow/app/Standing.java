package io.sandflow.app;

import io.sandflow.job.JobState;
import io.sandflow.store.JobStore;
import io.sandflow.store.StatusSnapshot;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Where the batch stands, for the progress line and the queue gauges: the store's counts and the inbox's size,
 * both read at most once per {@code sandflow.observe.refresh} (bean {@code standing}, refreshed by the
 * {@code observe} route), plus what this node finished since, counted in memory. A finished job therefore costs
 * no query and no directory listing.
 */
public final class Standing {

    private static final Logger LOG = LoggerFactory.getLogger("sandflow.observe");

    /** This node's job endings since start, by outcome. */
    private final AtomicLong ok = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();
    private final AtomicLong parked = new AtomicLong();

    private final Supplier<JobStore> store;
    private final Path inbox;
    private final Predicate<String> include;
    private final Duration refresh;
    /**
     * How long a view is used before it is read again: the refresh interval, or 20 times what the last read cost
     * when that is longer. Counting states over a store of a million rows, or listing an inbox of 100,000 files,
     * takes a sizeable part of a second on a busy machine; repeating it every 2 s would take a steady share of
     * the CPU that grows with the store and the inbox. Stretching the interval caps that share at 5%.
     */
    private volatile Duration validFor;
    private volatile View view;

    Standing(Supplier<JobStore> store, Path inbox, String includeRegex, Duration refresh) {
        this.store = store;
        this.inbox = inbox;
        this.include = Pattern.compile(includeRegex).asMatchPredicate();
        this.refresh = refresh;
        this.validFor = refresh;
    }

    /**
     * The store and inbox at one moment, with this node's counters as they were just before the store was read,
     * so that later endings can be added without counting them twice.
     */
    record View(StatusSnapshot store, long inboxFiles, Instant at, long okMark, long failedMark) {

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

    /** Counts one job ending of this node: ok, failed, skipped or parked. */
    void ended(String outcome) {
        switch (outcome) {
            case "ok" -> ok.incrementAndGet();
            case "failed" -> failed.incrementAndGet();
            case "skipped" -> skipped.incrementAndGet();
            case "parked" -> parked.incrementAndGet();
            default -> {
                // "lost": another node owns the job now and will count it
            }
        }
    }

    long ok() {
        return ok.get();
    }

    long failed() {
        return failed.get();
    }

    long skipped() {
        return skipped.get();
    }

    long parked() {
        return parked.get();
    }

    /** The latest view, read now when there is none yet or it is older than the refresh interval. */
    View view() {
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
        // Order matters: a job writes its row, then moves its input out of the inbox, then counts itself here.
        // Listing the inbox before reading the store, and marking the counters after, keeps the windows in which
        // a job could be counted twice (or not yet) as short as the query itself.
        long inboxFiles = countInbox();
        StatusSnapshot snapshot;
        try {
            snapshot = store.get().status(0);
        } catch (RuntimeException e) {
            LOG.debug("cannot read the store's counts: {}", e.getMessage());
            if (current != null) {
                return current;
            }
            snapshot = new StatusSnapshot(Instant.now(), java.util.Map.of(), java.math.BigDecimal.ZERO, 0, 0, 0, 0,
                    java.util.List.of(), java.util.List.of());
        }
        view = new View(snapshot, inboxFiles, Instant.now(), ok.get(), failed.get());
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        Duration stretched = took.multipliedBy(20);
        validFor = stretched.compareTo(refresh) > 0 ? stretched : refresh;
        return view;
    }

    private long countInbox() {
        try (Stream<Path> files = Files.list(inbox)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> !n.startsWith(".") && include.test(n))
                    .count();
        } catch (IOException e) {
            return 0;
        }
    }
}
