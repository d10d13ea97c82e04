package io.sandflow.flow;

import io.sandflow.job.BudgetSpentException;
import io.sandflow.store.JobStore;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;

import java.math.BigDecimal;
import java.util.function.Supplier;

/**
 * The total budget ({@code sandflow.budget.max-usd-total}, bean {@code budget}): once the run's total spend reaches
 * it, no attempt starts, and the breaker holds the queue until it is raised.
 */
public final class Budget {

    private final BigDecimal cap;
    private final Supplier<JobStore> store;
    private final Breaker breaker;

    Budget(BigDecimal cap, Supplier<JobStore> store, Breaker breaker) {
        this.cap = cap;
        this.store = store;
        this.breaker = breaker;
    }

    /** Before each attempt: throws {@link BudgetSpentException} once the spend has reached the cap; zero is none. */
    public void check() {
        if (cap.signum() <= 0) {
            return;
        }
        BigDecimal spent = store.get().totalCostUsd();
        if (spent.compareTo(cap) >= 0) {
            throw new BudgetSpentException("the total budget is spent: $" + spent + " of sandflow.budget.max-usd-total=$"
                    + cap);
        }
    }

    /** Holds the queue: opens the circuit breaker with the reason, so that intake pauses and every job waits. */
    public void hold(@ExchangeProperty(Exchange.EXCEPTION_CAUGHT) BudgetSpentException spent) {
        breaker.openUntil(null, spent.getMessage());
    }
}
