package io.sandflow.flow;

import io.sandflow.job.JobFailure;
import io.sandflow.observe.LogLines;

/**
 * The one log line of a failed attempt: file, attempt, exit code, class and reason, on one line of bounded length,
 * then what happens next. The argv (with the whole schema) is logged at DEBUG when the agent starts, never here.
 */
final class AttemptLog {

    private AttemptLog() {
    }

    /** "a.json: attempt 2 failed (exit 1, transient): the API failed with 429: …; retrying in 4s". */
    static String failed(Job job, JobFailure failure, String next) {
        return job.name + ": attempt " + job.attempt + " failed (" + exit(job) + ", " + failure.failureClass().label()
                + "): " + LogLines.clip(failure.reason()) + "; " + next;
    }

    private static String exit(Job job) {
        if (job.outcome == null) {
            return "the agent did not run";
        }
        return job.outcome.timedOut() ? "timed out" : "exit " + job.outcome.exitCode();
    }
}
