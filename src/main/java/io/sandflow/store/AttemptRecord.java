package io.sandflow.store;

import java.math.BigDecimal;
import java.time.Instant;

import io.sandflow.job.FailureClass;

/**
 * One agent run of a job as stored (sandflow_attempts). Times are the database's. failureClass is null for a run
 * that succeeded; exitCode is null for one that could not be started.
 */
public record AttemptRecord(long jobId, int attempt, Instant startedAt, Instant endedAt, Integer exitCode,
                            boolean timedOut, FailureClass failureClass, String reason, BigDecimal costUsd,
                            long inputTokens, long outputTokens, String node, String sandbox) {
}
