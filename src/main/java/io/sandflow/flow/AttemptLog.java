package io.sandflow.flow;

import io.sandflow.job.JobFailure;

/**
 * The one log line of a failed attempt: file, attempt, exit code, class and reason, on one line of bounded length,
 * then what happens next. The argv (with the whole schema) is logged at DEBUG when the agent starts, never here.
 */
public final class AttemptLog {

    /** Enough for the cause and a good part of the agent's own words; the report in failed/ keeps the rest. */
    static final int MAX_REASON = 300;

    private AttemptLog() {
    }

    /** "a.json: attempt 2 failed (exit 1, transient): the API failed with 429: …; retrying in 4s". */
    static String failed(Job job, JobFailure failure, String next) {
        return job.name + ": attempt " + job.attempt + " failed (" + exit(job) + ", " + failure.failureClass().label()
                + "): " + clip(failure.reason()) + "; " + next;
    }

    private static String exit(Job job) {
        if (job.outcome == null) {
            return "the agent did not run";
        }
        return job.outcome.timedOut() ? "timed out" : "exit " + job.outcome.exitCode();
    }

    /** One line, at most {@value #MAX_REASON} characters, without a trailing full stop (the line goes on). */
    public static String clip(String text) {
        if (text == null) {
            return "";
        }
        String flat = text.replaceAll("\\s+", " ").strip();
        if (flat.endsWith(".")) {
            flat = flat.substring(0, flat.length() - 1);
        }
        return flat.length() <= MAX_REASON ? flat : flat.substring(0, MAX_REASON) + "…";
    }
}
