package io.sandflow.store;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import io.sandflow.job.JobState;

/**
 * The store at one moment, for a status view: jobs by state (every state present, zero when none), totals,
 * throughput, the most common reasons why jobs failed or are parked, and the nodes. {@code now} is the
 * database's clock, to judge heartbeats against without trusting this machine's.
 */
public record StatusSnapshot(Instant now, Map<JobState, Long> counts, BigDecimal totalCostUsd, long inputTokens,
                             long outputTokens, long doneLast10Minutes, long doneLastHour,
                             List<FailureReason> topReasons, List<NodeRecord> nodes) {

    public StatusSnapshot {
        counts = Map.copyOf(counts);
        topReasons = List.copyOf(topReasons);
        nodes = List.copyOf(nodes);
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
