package io.sandflow.job;

/**
 * What kind of failure ended an attempt; the class alone decides whether the job is retried, parked or failed.
 */
public enum FailureClass {
    /** The API or the sandbox hiccuped (429, 529, 5xx, connection refused, timeout, empty output): retry with backoff. */
    TRANSIENT,
    /** The agent ran but its answer is unusable (not JSON, schema mismatch, max turns): retry with the errors fed back. */
    INVALID_OUTPUT,
    /** Nothing can succeed until something outside changes (auth, usage limit, budget): park, never fail. */
    SYSTEMIC,
    /** This file can never succeed as it is (too large, not UTF-8, 400, retries used up): fail with a report. */
    PERMANENT;

    /** The lower-case name used in reports, logs and metrics. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
