package io.sandflow.job;

import java.time.Duration;

/** How every sentence Sandflow writes for a person shows a duration: {@code 500ms}, {@code 45s}, {@code 2m13s}, {@code 3h10m}. */
public final class Durations {

    private Durations() {
    }

    /** The two largest units that matter, with no zero tail: 500ms, 45s, 2m, 2m13s, 1h, 3h10m, 1d2h. */
    public static String human(Duration d) {
        long ms = Math.max(0, d.toMillis());
        if (ms < 1000) {
            return ms + "ms";
        }
        long s = ms / 1000;
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return pair(s / 60, "m", s % 60, "s");
        }
        if (s < 86_400) {
            return pair(s / 3600, "h", (s % 3600) / 60, "m");
        }
        return pair(s / 86_400, "d", (s % 86_400) / 3600, "h");
    }

    private static String pair(long big, String bigUnit, long small, String smallUnit) {
        return big + bigUnit + (small == 0 ? "" : small + smallUnit);
    }
}
