package io.sandflow.job;

/**
 * Whose fault a failed attempt shows: the agent service's (down for everyone) or this input's alone. Only the
 * service's failures count toward the circuit breaker; an input's own failures spend that input's retries only.
 */
public enum FailureScope {
    /** API error statuses (429, 5xx, 529), connection failures, auth and usage limits, sandbox or CLI start failures. */
    SERVICE,
    /** A timeout, a crash without an API error, an unusable answer: another input may well succeed. */
    INPUT;

    /** The scope a failure class has when nothing more is known: only systemic causes are the service's. */
    public static FailureScope usual(FailureClass failureClass) {
        return failureClass == FailureClass.SYSTEMIC ? SERVICE : INPUT;
    }
}
