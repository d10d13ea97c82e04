package io.sandflow.job;

import io.github.resilience4j.core.IntervalFunction;

import java.time.Duration;

/**
 * How many times each failure class may be retried, and how long to wait before a transient retry:
 * exponential backoff with jitter, capped (Resilience4j's {@link IntervalFunction}).
 *
 * @param maxAttempts        transient failures a job may have before it fails for good
 * @param maxInvalidAttempts invalid outputs a job may return before it fails for good
 */
public record RetryPolicy(int maxAttempts, int maxInvalidAttempts, Duration initialBackoff, Duration maxBackoff,
                          double multiplier, double jitter) {

    public RetryPolicy {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("sandflow.retry.max-attempts must be at least 1, got " + maxAttempts);
        }
        if (maxInvalidAttempts < 1) {
            throw new IllegalArgumentException(
                    "sandflow.retry.max-invalid-attempts must be at least 1, got " + maxInvalidAttempts);
        }
        if (multiplier < 1.0) {
            throw new IllegalArgumentException("sandflow.retry.backoff.multiplier must be at least 1, got " + multiplier);
        }
        if (jitter < 0 || jitter > 1) {
            throw new IllegalArgumentException("sandflow.retry.backoff.jitter must be between 0 and 1, got " + jitter);
        }
        if (maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException("sandflow.retry.backoff.max must not be shorter than "
                    + "sandflow.retry.backoff.initial");
        }
    }

    /**
     * @param failureNumber 1 for the first transient failure of a job
     * @return how long to wait before the next attempt: at most {@code maxBackoff}
     */
    public Duration backoff(int failureNumber) {
        // Resilience4j refuses intervals under a millisecond; a zero backoff is a millisecond's
        IntervalFunction intervals = IntervalFunction.ofExponentialRandomBackoff(Math.max(1, initialBackoff.toMillis()),
                multiplier, jitter, Math.max(1, maxBackoff.toMillis()));
        return Duration.ofMillis(intervals.apply(Math.max(1, failureNumber)));
    }
}
