package io.sandflow.observe;

import io.sandflow.job.Durations;
import io.sandflow.job.FailureClass;
import io.sandflow.job.JobFailure;
import io.sandflow.job.JobParkedException;
import io.sandflow.job.JobState;
import io.sandflow.ops.Money;
import io.sandflow.ops.Pace;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.support.EventNotifierSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * One log line per finished job (bean {@code progress}), with counts over everything the store knows plus the
 * inbox, and an ETA from this run's recent pace ({@link Pace}), or why there is none:
 * {@code [37/580] ok ajgt.json 2m13s $0.41 · done 37 failed 1 parked 0 pending 542 · ETA 3h10m}.
 * With {@code run --once} on a terminal, a live progress bar shows the same figures instead of the lines.
 */
public final class Progress {

    private static final Logger LOG = LoggerFactory.getLogger("sandflow.progress");
    private static final int WINDOW = Pace.WINDOW;

    private final Standing standing;
    private final Metrics metrics;
    /** This node's job endings since start, by outcome, for the run's summary and exit code. */
    private final AtomicLong ok = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();
    private final AtomicLong parked = new AtomicLong();
    /** Jobs stopped by a shutdown (back to pending), by name, for the last line. */
    private final java.util.Set<String> interrupted = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** When this node's last jobs finished (done or failed), oldest first. */
    private final Deque<Instant> recent = new ArrayDeque<>();
    private final Clock clock;
    private final Instant runStart;
    /** Why no job can run now (the breaker holds the queue), or null. */
    private final Supplier<String> blocked;
    private final Object lines = new Object();
    private volatile ProgressBar bar;
    private volatile Runnable afterExchange = () -> { };

    public Progress(Standing standing, Metrics metrics) {
        this(standing, metrics, Clock.systemUTC(), () -> null);
    }

    /** @param clock "now", from which this run's start and its jobs' finishes are taken (tests pass their own) */
    public Progress(Standing standing, Metrics metrics, Clock clock, Supplier<String> blocked) {
        this.standing = standing;
        this.metrics = metrics;
        this.clock = clock;
        this.runStart = clock.instant();
        this.blocked = blocked;
    }

    /**
     * Shows a live progress bar instead of log lines when the output is a terminal ({@code run --once}); with
     * output going to a file or a pipe the lines stay, as a bar would only fill them with control characters.
     */
    public void liveBarIfTerminal() {
        if (System.console() == null || bar != null) {
            return;
        }
        Standing.View v = standing.view();
        bar = new ProgressBarBuilder().setTaskName("sandflow").setInitialMax(v.total())
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).continuousUpdate()
                .startsFrom(v.count(JobState.DONE) + v.count(JobState.FAILED), Duration.ZERO)
                .setEtaFunction(state -> Optional.ofNullable(eta(counts(standing.view())).duration()))
                .build();
    }

    /** Ends the live bar, leaving its last state on screen. */
    public void close() {
        ProgressBar b = bar;
        bar = null;
        if (b != null) {
            b.close();
        }
    }

    /** Runs after every job's exchange completes, on the thread that ran it; it must be quick. */
    public void afterExchange(Runnable hook) {
        afterExchange = hook;
    }

    /**
     * Counts the job and reports it, once (bean {@code progress}): a route's progress step, or the job's completion
     * for the jobs whose route has none (parked ones).
     *
     * @param cause what ended the job, when an error did
     */
    public void finished(@ExchangeProperty(JobEnding.PROPERTY) JobEnding job,
                         @ExchangeProperty(Exchange.EXCEPTION_CAUGHT) Exception cause) {
        if (job == null || job.ending() == null || !isEnding(job.ending()) || !job.markReported()) {
            return;
        }
        try {
            report(job, cause);
        } catch (RuntimeException e) {
            // Progress is for people watching; it must never fail the job it reports
            LOG.debug("cannot report {}: {}", job.name(), e.toString());
        }
    }

    private void report(JobEnding job, Exception cause) {
        tally(job.ending()).incrementAndGet();
        metrics.jobEnded(job.ending(), failureClass(job, cause));
        boolean stopped = cause instanceof JobParkedException p && p.isShutdown();
        if (stopped) {
            interrupted.add(job.name());
        }
        Instant now = clock.instant();
        if (job.ending().equals("ok") || job.ending().equals("failed")) {
            synchronized (recent) {
                recent.addLast(now);
                while (recent.size() > WINDOW) {
                    recent.removeFirst();
                }
            }
        }
        Standing.View v = standing.view();
        // One line at a time, each adding its own job: jobs that end together would otherwise all be counted before
        // the first of their lines, which then all show the same figures
        synchronized (lines) {
            standing.reported(job.stored());
            Counts c = counts(v);
            String eta = eta(c).text();
            ProgressBar b = bar;
            if (b != null) {
                b.maxHint(c.total);
                b.stepTo(c.done + c.failed);
                b.setExtraMessage(String.format("%s %s · failed %d parked %d", job.ending(), job.name(), c.failed,
                        c.parked));
            }
            if (b != null ? LOG.isDebugEnabled() : LOG.isInfoEnabled()) {
                String line = String.format(
                        "[%d/%d] %s %s %s %s · done %d failed %d parked %d pending %d · ETA %s",
                        c.done + c.failed, c.total, stopped ? "stopped (pending)" : job.ending(), job.name(),
                        Durations.human(Duration.between(job.started(), Instant.now())), Money.usd(job.costUsd()),
                        c.done, c.failed, c.parked, c.pending, eta);
                if (b != null) {
                    LOG.debug(line);
                } else {
                    LOG.info(line);
                }
            }
        }
    }

    private AtomicLong tally(String ending) {
        return switch (ending) {
            case "ok" -> ok;
            case "failed" -> failed;
            case "skipped" -> skipped;
            default -> parked;
        };
    }

    private static boolean isEnding(String ending) {
        return switch (ending) {
            case "ok", "failed", "skipped", "parked" -> true;
            default -> false;
        };
    }

    /**
     * The class a metric files the ending under: the last attempt's class when there was one (a job that used up
     * its retries on 429s is "transient", though its report says permanent), else the class that ended it.
     */
    static String failureClass(JobEnding job, Exception cause) {
        return switch (job.ending()) {
            case "failed" -> {
                if (job.lastFailureClass() != null) {
                    yield job.lastFailureClass().label();
                }
                yield cause instanceof JobFailure jf ? jf.failureClass().label() : FailureClass.PERMANENT.label();
            }
            case "parked" -> FailureClass.SYSTEMIC.label();
            default -> "none";
        };
    }

    /** The figures of one line: the store's counts when last read, with this node's jobs as they are reported. */
    public record Counts(long total, long done, long failed, long parked, long pending) {
    }

    public Counts counts(Standing.View v) {
        long done = standing.done(v);
        long failed = standing.failed(v);
        long parked = v.count(JobState.PARKED);
        long total = Math.max(v.total(), done + failed + parked);
        return new Counts(total, done, failed, parked, Math.max(0, total - done - failed - parked));
    }

    /**
     * The last line of a run: what the next start will find, with the jobs the stop interrupted named.
     *
     * @param inboxFiles the inputs still in the inbox
     */
    public String leftPending(long inboxFiles) {
        if (inboxFiles == 0) {
            return "Sandflow stopped: nothing left pending";
        }
        java.util.List<String> names = new java.util.ArrayList<>(new java.util.TreeSet<>(interrupted));
        String which = names.isEmpty() ? "" : ", " + names.size() + " of them interrupted by the stop ("
                + String.join(", ", names.subList(0, Math.min(10, names.size()))) + (names.size() > 10 ? ", …" : "")
                + ")";
        return "Sandflow stopped: " + inboxFiles + " input(s) left pending in the inbox" + which
                + "; the next start runs them";
    }

    /**
     * The time the remaining jobs (pending, running) need at this node's recent pace; none while the breaker holds
     * the queue or only parked jobs remain, with why.
     */
    public Pace.Eta eta(Counts c) {
        String why = blocked.get();
        if (why == null && c.pending == 0 && c.parked > 0) {
            why = "every remaining job is parked";
        }
        List<Instant> finishes;
        synchronized (recent) {
            finishes = List.copyOf(recent);
        }
        return Pace.eta(finishes, runStart, clock.instant(), c.pending, why == null ? null : LogLines.clip(why));
    }

    /**
     * Counts the jobs that end without a progress step in their route (parked ones), when their exchange
     * completes.
     */
    public EventNotifierSupport completions() {
        EventNotifierSupport notifier = new EventNotifierSupport() {
            @Override
            public void notify(CamelEvent event) {
                if (event instanceof CamelEvent.ExchangeEvent e) {
                    Exchange done = e.getExchange();
                    finished(done.getProperty(JobEnding.PROPERTY, JobEnding.class),
                            done.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class));
                    afterExchange.run();
                }
            }

            @Override
            public boolean isEnabled(CamelEvent event) {
                return event.getType() == CamelEvent.Type.ExchangeCompleted
                        || event.getType() == CamelEvent.Type.ExchangeFailed;
            }
        };
        notifier.setIgnoreCamelContextEvents(true);
        notifier.setIgnoreCamelContextInitEvents(true);
        notifier.setIgnoreRouteEvents(true);
        notifier.setIgnoreServiceEvents(true);
        notifier.setIgnoreExchangeCreatedEvent(true);
        notifier.setIgnoreExchangeSendingEvents(true);
        notifier.setIgnoreExchangeSentEvents(true);
        notifier.setIgnoreExchangeRedeliveryEvents(true);
        notifier.setIgnoreExchangeAsyncProcessingStartedEvents(true);
        notifier.setIgnoreStepEvents(true);
        return notifier;
    }

    public int done() {
        return (int) ok.get();
    }

    public int failed() {
        return (int) failed.get();
    }

    int parked() {
        return (int) parked.get();
    }

    public int skipped() {
        return (int) skipped.get();
    }
}
