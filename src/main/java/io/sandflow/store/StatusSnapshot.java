package io.sandflow.store;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import io.sandflow.job.JobState;

/**
 * The store at one moment, for a status view: jobs by state (every state present, zero when none; an input skipped
 * because the result of another job of its name was already there is not a job of its own), totals, throughput, when the last jobs finished, the most common reasons why jobs failed or are parked, and the
 * nodes, each with the jobs the store has RUNNING under its name. {@code now} is the database's clock, to judge
 * heartbeats and finish times against without trusting this machine's.
 *
 * @param recentFinishes when the most recently finished jobs (done or failed) ended, newest first, at most
 *                       {@link #RECENT_FINISHES}
 */
public record StatusSnapshot(Instant now, Map<JobState, Long> counts, BigDecimal totalCostUsd, long inputTokens,
                             long outputTokens, long doneLast10Minutes, long doneLastHour,
                             List<FailureReason> topReasons, List<NodeRecord> nodes, List<Instant> recentFinishes) {

    /** How many finish times a snapshot carries: enough for a pace, few enough to read off an index. */
    public static final int RECENT_FINISHES = 50;

    public StatusSnapshot {
        counts = Map.copyOf(counts);
        topReasons = List.copyOf(topReasons);
        nodes = List.copyOf(nodes);
        recentFinishes = List.copyOf(recentFinishes);
    }

    /** A snapshot without finish times. */
    public StatusSnapshot(Instant now, Map<JobState, Long> counts, BigDecimal totalCostUsd, long inputTokens,
                          long outputTokens, long doneLast10Minutes, long doneLastHour, List<FailureReason> topReasons,
                          List<NodeRecord> nodes) {
        this(now, counts, totalCostUsd, inputTokens, outputTokens, doneLast10Minutes, doneLastHour, topReasons, nodes,
                List.of());
    }

    /** All jobs, in any state. */
    public long total() {
        return counts.values().stream().mapToLong(Long::longValue).sum();
    }

    public long count(JobState state) {
        return counts.getOrDefault(state, 0L);
    }

    /** One reason shared by {@code count} jobs in {@code state} (FAILED or PARKED), with a few of their names. */
    public record FailureReason(JobState state, String reason, long count, List<String> sampleNames) {
        public FailureReason {
            sampleNames = List.copyOf(sampleNames);
        }
    }
}
