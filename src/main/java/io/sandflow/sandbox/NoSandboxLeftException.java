package io.sandflow.sandbox;

import io.sandflow.job.JobParkedException;

/**
 * Every sandbox of the pool has been retired, so no worker can run a job. A parked job, not a failed one: the
 * input stays pending until an operator repairs the sandboxes and restarts Sandflow.
 */
public final class NoSandboxLeftException extends JobParkedException {

    public NoSandboxLeftException(String reason) {
        super(reason, null);
    }
}
