package io.sandflow.ops;

import io.sandflow.job.Durations;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * How long the remaining jobs will take at this run's recent pace: the jobs that finished since the run started (at
 * most the last {@value #WINDOW}), over the time from the run's start (or the oldest of them, once there are that
 * many) until now. Measured until now, not until the last finish, so that a pause slows the estimate down. There is
 * no estimate while the queue is blocked, nor before anything finished in this run; each says why.
 */
public final class Pace {

    /** Enough finishes to smooth one slow job, few enough to follow a change of pace. */
    public static final int WINDOW = 50;

    private Pace() {
    }

    /** An estimate: a duration, or why there is none. */
    public record Eta(Duration duration, String none) {

        static Eta of(Duration d) {
            return new Eta(d, null);
        }

        static Eta none(String why) {
            return new Eta(null, why);
        }

        public boolean known() {
            return duration != null;
        }

        /** "17s", "nothing left" when every job has ended, or "none (why)". */
        public String text() {
            if (!known()) {
                return "none (" + none + ")";
            }
            return duration.isZero() ? "nothing left" : Durations.human(duration);
        }
    }

    /**
     * @param finishes  when jobs ended (done or failed), in any order; those before {@code runStart} are ignored
     * @param runStart  when this run started
     * @param remaining the jobs still to run (waiting or running; not the parked ones)
     * @param blocked   why nothing can run now (the breaker is open, the budget is spent), or null
     */
    public static Eta eta(Collection<Instant> finishes, Instant runStart, Instant now, long remaining, String blocked) {
        if (blocked != null) {
            return Eta.none(blocked);
        }
        if (remaining <= 0) {
            return Eta.of(Duration.ZERO);
        }
        List<Instant> inRun = new ArrayList<>();
        for (Instant f : finishes) {
            if (!f.isBefore(runStart) && !f.isAfter(now)) {
                inRun.add(f);
            }
        }
        if (inRun.isEmpty()) {
            return Eta.none("nothing has finished yet in this run");
        }
        inRun.sort(null);
        if (inRun.size() > WINDOW) {
            inRun = inRun.subList(inRun.size() - WINDOW, inRun.size());
        }
        // Over a full window the oldest finish opens it, and the jobs after it are what was done since
        boolean full = inRun.size() == WINDOW;
        Instant from = full ? inRun.get(0) : runStart;
        int done = full ? WINDOW - 1 : inRun.size();
        // A second at least: jobs that end together right after a start would otherwise promise the rest at once
        long elapsedMs = Math.max(1000, Duration.between(from, now).toMillis());
        double perMs = (double) done / elapsedMs;
        return Eta.of(Duration.ofSeconds(Math.max(1, (long) Math.ceil(remaining / perMs / 1000.0))));
    }
}
