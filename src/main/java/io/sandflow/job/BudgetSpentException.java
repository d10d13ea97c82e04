package io.sandflow.job;

/** Thrown before an attempt once the run's total spend has reached its cap: the job waits, nothing more is spent. */
public class BudgetSpentException extends JobParkedException {

    public BudgetSpentException(String reason) {
        super(reason, null);
    }
}
