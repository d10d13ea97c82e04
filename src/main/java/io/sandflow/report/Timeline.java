package io.sandflow.report;

import io.sandflow.job.JobState;
import io.sandflow.store.AttemptRecord;
import io.sandflow.store.JobRecord;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Jobs finished and money spent over time, in equal buckets from the first finish or paid attempt until now: the
 * console's chart. The bucket is the shortest of a few round sizes that keeps the chart at {@value #MAX_BUCKETS}
 * buckets or fewer.
 */
public record Timeline(Instant from, Duration bucket, List<Bucket> buckets) {

    static final int MAX_BUCKETS = 60;
    private static final List<Duration> SIZES = List.of(Duration.ofSeconds(1), Duration.ofSeconds(2),
            Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30),
            Duration.ofMinutes(1), Duration.ofMinutes(2), Duration.ofMinutes(5), Duration.ofMinutes(10),
            Duration.ofMinutes(15), Duration.ofMinutes(30), Duration.ofHours(1), Duration.ofHours(2),
            Duration.ofHours(6), Duration.ofHours(12), Duration.ofDays(1), Duration.ofDays(7));

    /** One bucket from {@code start}: jobs done and failed in it, and the cost of the attempts that ended in it. */
    public record Bucket(Instant start, long done, long failed, BigDecimal spendUsd) {
    }

    public Timeline {
        buckets = List.copyOf(buckets);
    }

    public static Timeline of(Collection<JobRecord> jobs, Collection<AttemptRecord> attempts, Instant now) {
        Instant first = null;
        for (JobRecord j : jobs) {
            if (j.finishedAt() != null && (first == null || j.finishedAt().isBefore(first))) {
                first = j.finishedAt();
            }
        }
        for (AttemptRecord a : attempts) {
            if (a.endedAt() != null && (first == null || a.endedAt().isBefore(first))) {
                first = a.endedAt();
            }
        }
        if (first == null) {
            return new Timeline(now, SIZES.get(0), List.of());
        }
        Instant end = now.isAfter(first) ? now : first;
        Duration span = Duration.between(first, end);
        Duration bucket = SIZES.stream().filter(s -> span.toMillis() / s.toMillis() < MAX_BUCKETS).findFirst()
                .orElse(SIZES.get(SIZES.size() - 1));
        long size = bucket.toMillis();
        Instant from = Instant.ofEpochMilli(Math.floorDiv(first.toEpochMilli(), size) * size);
        int n = (int) Math.min(MAX_BUCKETS * 4L, Duration.between(from, end).toMillis() / size + 1);
        long[] done = new long[n];
        long[] failed = new long[n];
        BigDecimal[] spend = new BigDecimal[n];
        java.util.Arrays.fill(spend, BigDecimal.ZERO);
        for (JobRecord j : jobs) {
            int i = index(j.finishedAt(), from, size, n);
            if (i >= 0 && j.state() == JobState.DONE) {
                done[i]++;
            } else if (i >= 0 && j.state() == JobState.FAILED) {
                failed[i]++;
            }
        }
        for (AttemptRecord a : attempts) {
            int i = index(a.endedAt(), from, size, n);
            if (i >= 0 && a.costUsd() != null) {
                spend[i] = spend[i].add(a.costUsd());
            }
        }
        List<Bucket> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(new Bucket(from.plusMillis(i * size), done[i], failed[i], spend[i].stripTrailingZeros()));
        }
        return new Timeline(from, bucket, out);
    }

    private static int index(Instant t, Instant from, long size, int n) {
        if (t == null || t.isBefore(from)) {
            return -1;
        }
        long i = Duration.between(from, t).toMillis() / size;
        return i < n ? (int) i : n - 1;
    }
}
