package io.sandflow.store;

import java.math.BigDecimal;
import java.time.Duration;

import io.sandflow.job.FailureClass;

/**
 * What the attempts of one claim of a job came to, written when the job ends. Cost and tokens are this claim's
 * and are added to the job's figures and to the store's totals (a parked job that runs again keeps its earlier
 * spend); the other fields replace the job's. lastError is cut to 8 KiB of UTF-8.
 */
public record JobOutcome(int attempts, Duration duration, BigDecimal costUsd, long inputTokens, long outputTokens,
                         int turns, String sessionId, String lastError, FailureClass failureClass,
                         String outputName) {

    public JobOutcome {
        costUsd = costUsd == null ? BigDecimal.ZERO : costUsd;
        duration = duration == null ? Duration.ZERO : duration;
    }
}
