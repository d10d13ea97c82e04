package io.sandflow.job;

import java.time.Instant;

/**
 * Thrown when a job must wait, not fail: the circuit breaker is open, a systemic failure (auth, usage limit,
 * budget) holds every job back, or Sandflow is shutting down. The input stays in the inbox, pending.
 */
public class JobParkedException extends RuntimeException {

    private final Instant retryNotBefore;

    public JobParkedException(String reason, Instant retryNotBefore) {
        super(reason);
        this.retryNotBefore = retryNotBefore;
    }

    public Instant retryNotBefore() {
        return retryNotBefore;
    }
}
