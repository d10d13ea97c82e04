package io.sandflow.agent;

import io.sandflow.job.FailureClass;
import io.sandflow.job.JobFailure;

import java.time.Instant;

/**
 * How one agent run ended, as far as the envelope tells: a success (no failure class) or a classified failure.
 *
 * @param failureClass   null for success
 * @param reason         one sentence for a person
 * @param retryNotBefore when a systemic cause is known to clear (a usage limit's reset), or null
 */
public record Verdict(FailureClass failureClass, String reason, Instant retryNotBefore) {

    public static Verdict success() {
        return new Verdict(null, "the agent finished without error", null);
    }

    public static Verdict failure(FailureClass failureClass, String reason) {
        return new Verdict(failureClass, reason, null);
    }

    public boolean isSuccess() {
        return failureClass == null;
    }

    /** The failure to throw for this verdict; only for a failed one. */
    public JobFailure toFailure() {
        if (failureClass == null) {
            throw new IllegalStateException("a successful verdict is not a failure");
        }
        return new JobFailure(failureClass, reason, retryNotBefore, null);
    }
}
