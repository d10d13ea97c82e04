package io.sandflow.observe;

import io.sandflow.job.FailureClass;
import io.sandflow.job.JobState;

import java.math.BigDecimal;
import java.time.Instant;

/** What a progress line and the job meters say about one job that ended, whatever carried it through the routes. */
public interface JobEnding {

    /** The exchange property that carries the job through the routes. */
    String PROPERTY = "sandflowJob";

    String name();

    /** How the job ended: ok, failed, parked, skipped; or null, lost, waiting, which are not endings. */
    String ending();

    Instant started();

    /** What this run of the job spent. */
    BigDecimal costUsd();

    /** The ending this node wrote to the store, DONE or FAILED; null when none. */
    JobState stored();

    /** Its last attempt's failure class, or null. */
    FailureClass lastFailureClass();

    /** True the first time only: each job is counted once, by whichever step reports it first. */
    boolean markReported();
}
