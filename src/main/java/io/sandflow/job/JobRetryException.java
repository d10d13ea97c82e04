package io.sandflow.job;

import java.util.Objects;

/**
 * Thrown when the agent's answer could not be used and the job has retries left for that: the route runs the
 * attempt again at once, with the problems fed back to the agent.
 */
public class JobRetryException extends RuntimeException {

    private final transient JobFailure failure;

    public JobRetryException(JobFailure failure) {
        super(Objects.requireNonNull(failure, "failure").reason());
        this.failure = failure;
    }

    /** The unusable answer's failure: its problems go into the next prompt. */
    public JobFailure failure() {
        return failure;
    }
}
