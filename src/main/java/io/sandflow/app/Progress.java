package io.sandflow.app;

import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * One log line per finished job (bean {@code progress}), with counts and an ETA from recent throughput:
 * {@code [37/580] ok ajgt.json 2m13s $0.41 · done 37 failed 1 parked 0 pending 542 · ETA 3h10m}.
 */
public final class Progress {

    private static final Logger LOG = LoggerFactory.getLogger("sandflow.progress");
    private static final Duration INBOX_RECOUNT = Duration.ofSeconds(2);
    private static final int WINDOW = 50;

    private final Path inbox;
    private final Predicate<String> include;
    private final AtomicInteger done = new AtomicInteger();
    private final AtomicInteger failed = new AtomicInteger();
    private final AtomicInteger skipped = new AtomicInteger();
    private final AtomicInteger parked = new AtomicInteger();
    private final Deque<Instant> recent = new ArrayDeque<>();
    private volatile long inboxCount;
    private volatile Instant inboxCountedAt = Instant.EPOCH;

    Progress(Path inbox, String includeRegex) {
        this.inbox = inbox;
        this.include = java.util.regex.Pattern.compile(includeRegex).asMatchPredicate();
    }

    public void finished(Exchange exchange) {
        Job job = exchange.getProperty(Job.PROPERTY, Job.class);
        if (job == null || job.ending == null) {
            return;
        }
        switch (job.ending) {
            case "ok" -> done.incrementAndGet();
            case "failed" -> failed.incrementAndGet();
            case "skipped" -> skipped.incrementAndGet();
            case "parked" -> parked.incrementAndGet();
            default -> {
                return;
            }
        }
        Instant now = Instant.now();
        String eta;
        synchronized (recent) {
            recent.addLast(now);
            while (recent.size() > WINDOW) {
                recent.removeFirst();
            }
            eta = eta(now);
        }
        long pending = Math.max(0, inboxFiles() - 1);
        int finished = done.get() + failed.get() + skipped.get();
        String line = String.format("[%d/%d] %s %s %s $%.2f · done %d failed %d parked %d pending %d · ETA %s",
                finished, finished + pending, job.ending, job.name,
                AttemptSteps.human(Duration.between(job.started, now)), job.costUsd.doubleValue(),
                done.get() + skipped.get(), failed.get(), parked.get(), pending, eta);
        LOG.info(line);
    }

    private String eta(Instant now) {
        if (recent.size() < 2) {
            return "?";
        }
        Duration span = Duration.between(recent.getFirst(), now);
        double perSecond = (recent.size() - 1) / Math.max(0.001, span.toMillis() / 1000.0);
        long pending = inboxCount;
        return AttemptSteps.human(Duration.ofSeconds(Math.round(pending / perSecond)));
    }

    /** The inbox's size, recounted at most every two seconds so that a large inbox is not listed per job. */
    long inboxFiles() {
        Instant now = Instant.now();
        if (Duration.between(inboxCountedAt, now).compareTo(INBOX_RECOUNT) > 0) {
            inboxCountedAt = now;
            try (Stream<Path> files = Files.list(inbox)) {
                inboxCount = files.filter(p -> include.test(p.getFileName().toString())).count();
            } catch (IOException e) {
                inboxCount = 0;
            }
        }
        return inboxCount;
    }

    int done() {
        return done.get();
    }

    int failed() {
        return failed.get();
    }

    int parked() {
        return parked.get();
    }

    int skipped() {
        return skipped.get();
    }
}
