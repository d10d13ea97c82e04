package io.sandflow.job;

import java.time.Duration;
import java.util.Objects;

/**
 * Thrown when a job must wait before its next attempt (a transient failure's backoff). The job gives its worker
 * back: it goes back to pending in the store with a not-before time, and its input stays in the inbox until then.
 */
public class JobBackoffException extends RuntimeException {

    private final transient JobFailure failure;
    private final Duration wait;

    public JobBackoffException(JobFailure failure, Duration wait) {
        super(Objects.requireNonNull(failure, "failure").reason());
        this.failure = failure;
        this.wait = Objects.requireNonNull(wait, "wait");
    }

    /** The failed attempt this backoff follows. */
    public JobFailure failure() {
        return failure;
    }

    /** How long the job waits before its next attempt. */
    public Duration waitFor() {
        return wait;
    }
}
