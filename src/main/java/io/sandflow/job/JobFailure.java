package io.sandflow.job;

import java.time.Instant;
import java.util.Objects;

/**
 * An attempt's failure, classified. Thrown by the steps of a job and read by the routes' error handling. Its
 * {@link FailureScope} says whether it is evidence against the agent service (for the circuit breaker) or against
 * this input only.
 */
public class JobFailure extends RuntimeException {

    private final FailureClass failureClass;
    private final String reason;
    private final Instant retryNotBefore;
    private final FailureScope scope;
    private final boolean countsTowardBreaker;

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
        this(failureClass, reason, retryNotBefore, FailureScope.usual(failureClass), cause);
    }

    public JobFailure(FailureClass failureClass, String reason, Instant retryNotBefore, FailureScope scope,
                      Throwable cause) {
        this(failureClass, reason, retryNotBefore, scope, scope == FailureScope.SERVICE, cause);
    }

    private JobFailure(FailureClass failureClass, String reason, Instant retryNotBefore, FailureScope scope,
                       boolean countsTowardBreaker, Throwable cause) {
        super(Objects.requireNonNull(failureClass, "failureClass").label() + ": " + reason, cause);
        this.failureClass = failureClass;
        this.reason = Objects.requireNonNull(reason, "reason");
        this.retryNotBefore = retryNotBefore;
        this.scope = Objects.requireNonNull(scope, "scope");
        this.countsTowardBreaker = countsTowardBreaker;
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

    /** Whether this is the agent service's failure or this input's own. */
    public FailureScope scope() {
        return scope;
    }

    /**
     * Whether the circuit breaker records this failure: a service failure does, unless the breaker already holds
     * one of the same job (see {@link #notCountedAgain()}); an input's own failure never does.
     */
    public boolean countsTowardBreaker() {
        return countsTowardBreaker;
    }

    /** The same failure, which the breaker ignores because it already counts one of this job's. */
    public JobFailure notCountedAgain() {
        JobFailure copy = new JobFailure(failureClass, reason, retryNotBefore, scope, false, getCause());
        copy.setStackTrace(getStackTrace());
        return copy;
    }
}
