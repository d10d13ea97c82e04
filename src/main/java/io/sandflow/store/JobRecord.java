package io.sandflow.store;

import java.math.BigDecimal;
import java.time.Instant;

import io.sandflow.job.FailureClass;
import io.sandflow.job.JobKey;
import io.sandflow.job.JobState;

/**
 * One job row as stored. failureReason is the short form of lastError (its first line, at most 240 characters)
 * by which status groups failures. Times are the database's.
 */
public record JobRecord(long id, String name, String sha256, JobState state, int attempts, Instant createdAt,
                        Instant startedAt, Instant finishedAt, Long durationMs, BigDecimal costUsd,
                        long inputTokens, long outputTokens, int turns, String sessionId, String lastError,
                        String failureReason, FailureClass failureClass, String owner, Instant leaseUntil,
                        long fenceToken, String sandbox, String outputName) {

    public JobKey key() {
        return new JobKey(name, sha256);
    }
}
