package io.sandflow.job;

import java.time.Instant;
import java.util.Objects;

/**
 * An attempt's failure, classified. Thrown by the steps of a job and read by the routes' error handling.
 */
public class JobFailure extends RuntimeException {

    private final FailureClass failureClass;
    private final String reason;
    private final Instant retryNotBefore;

    public JobFailure(FailureClass failureClass, String reason) {
        this(failureClass, reason, null, null);
    }

    public JobFailure(FailureClass failureClass, String reason, Throwable cause) {
        this(failureClass, reason, null, cause);
    }

    /**
     * @param retryNotBefore when the cause is known to clear (a usage limit's reset time), or null
     */
    public JobFailure(FailureClass failureClass, String reason, Instant retryNotBefore, Throwable cause) {
        super(failureClass.label() + ": " + reason, cause);
        this.failureClass = Objects.requireNonNull(failureClass, "failureClass");
        this.reason = Objects.requireNonNull(reason, "reason");
        this.retryNotBefore = retryNotBefore;
    }

    public FailureClass failureClass() {
        return failureClass;
    }

    /** One sentence for a person: what went wrong with this attempt. */
    public String reason() {
        return reason;
    }

    /** When a systemic cause is expected to clear, or null when unknown. */
    public Instant retryNotBefore() {
        return retryNotBefore;
    }
}
