package io.sandflow.job;

/**
 * Where a job stands in the store. A job is PENDING until a node claims it, RUNNING while claimed,
 * PARKED while a systemic failure holds it back, and ends DONE or FAILED.
 */
public enum JobState {
    PENDING, RUNNING, PARKED, DONE, FAILED;

    public boolean finished() {
        return this == DONE || this == FAILED;
    }
}
