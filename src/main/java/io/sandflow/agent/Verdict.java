package io.sandflow.agent;

import io.sandflow.job.FailureClass;
import io.sandflow.job.FailureScope;
import io.sandflow.job.JobFailure;

import java.time.Instant;

/**
 * How one agent run ended, as far as the envelope tells: a success (no failure class) or a classified failure,
 * with whose fault it is (the agent service's, which the circuit breaker counts, or this input's alone).
 *
 * @param failureClass   null for success
 * @param reason         one sentence for a person
 * @param retryNotBefore when a systemic cause is known to clear (a usage limit's reset), or null
 * @param scope          the service's or the input's; null for success
 */
public record Verdict(FailureClass failureClass, String reason, Instant retryNotBefore, FailureScope scope) {

    /** A verdict whose scope is the usual one for its class (only systemic causes are the service's). */
    public Verdict(FailureClass failureClass, String reason, Instant retryNotBefore) {
        this(failureClass, reason, retryNotBefore, failureClass == null ? null : FailureScope.usual(failureClass));
    }

    public static Verdict success() {
        return new Verdict(null, "the agent finished without error", null, null);
    }

    /** A failure of this input alone: it spends the input's retries and nothing else. */
    public static Verdict failure(FailureClass failureClass, String reason) {
        return new Verdict(failureClass, reason, null, FailureScope.INPUT);
    }

    /** A failure that shows the agent service failing for everyone: the circuit breaker counts it. */
    public static Verdict serviceFailure(FailureClass failureClass, String reason) {
        return new Verdict(failureClass, reason, null, FailureScope.SERVICE);
    }

    public boolean isSuccess() {
        return failureClass == null;
    }

    /** The failure to throw for this verdict; only for a failed one. */
    public JobFailure toFailure() {
        if (failureClass == null) {
            throw new IllegalStateException("a successful verdict is not a failure");
        }
        return new JobFailure(failureClass, reason, retryNotBefore, scope, null);
    }
}
