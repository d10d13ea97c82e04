package io.sandflow.job;

import java.time.Instant;

/**
 * Thrown when a job must wait, not fail: the circuit breaker is open, a systemic failure (auth, usage limit,
 * budget) holds every job back, or Sandflow is shutting down. The input stays in the inbox, pending.
 */
public class JobParkedException extends RuntimeException {

    private final Instant retryNotBefore;
    private final boolean shutdown;

    public JobParkedException(String reason, Instant retryNotBefore) {
        this(reason, retryNotBefore, false);
    }

    private JobParkedException(String reason, Instant retryNotBefore, boolean shutdown) {
        super(reason);
        this.retryNotBefore = retryNotBefore;
        this.shutdown = shutdown;
    }

    /** The job was stopped because Sandflow is shutting down: it goes back to pending, not parked. */
    public static JobParkedException shutdown() {
        return new JobParkedException("Sandflow is shutting down; the job stays pending", null, true);
    }

    public boolean isShutdown() {
        return shutdown;
    }

    public Instant retryNotBefore() {
        return retryNotBefore;
    }
}
