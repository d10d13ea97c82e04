package io.sandflow.store;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Objects;

import io.sandflow.job.FailureClass;

/**
 * What a node reports when one agent run of a job ends; the store stamps it with its own clock (the run ended now
 * and started {@code duration} before). The reason is cut to 8 KiB of UTF-8.
 *
 * @param attempt              the job's attempt number, over all its claims
 * @param exitCode             the agent's exit code, or null when it could not be started
 * @param failureClass         how the run failed, or null when it succeeded
 * @param countsAgainstRetries whether this failure spends one of the job's retries for its class (a transient
 *                             failure while the breaker opens on it, or a systemic one, does not)
 * @param node                 the node that ran it
 * @param sandbox              the sandbox it ran in
 */
public record AttemptOutcome(int attempt, Duration duration, Integer exitCode, boolean timedOut,
                             FailureClass failureClass, String reason, boolean countsAgainstRetries,
                             BigDecimal costUsd, long inputTokens, long outputTokens, String node, String sandbox) {

    public AttemptOutcome {
        duration = duration == null || duration.isNegative() ? Duration.ZERO : duration;
        costUsd = costUsd == null ? BigDecimal.ZERO : costUsd;
        Objects.requireNonNull(node, "node");
    }
}
