package io.sandflow.observe;

import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Sandflow's readiness ({@code /observe/health/ready}): down, with the reasons, while anything keeps it from doing
 * its work (the store, a folder, a missing program); the circuit breaker's state is a detail, not a reason: the
 * daemon is alive and resumes by itself.
 */
public final class Readiness extends AbstractHealthCheck {

    private final Supplier<List<String>> problems;
    private final Supplier<Map<String, String>> details;

    /**
     * @param problems what keeps Sandflow from its work now, one sentence each; empty when ready
     * @param details  what the check shows besides (the breaker's state, until when, why)
     */
    public Readiness(Supplier<List<String>> problems, Supplier<Map<String, String>> details) {
        super("sandflow", "sandflow");
        this.problems = problems;
        this.details = details;
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        List<String> now = problems.get();
        details.get().forEach(builder::detail);
        if (now.isEmpty()) {
            builder.up();
        } else {
            builder.message(String.join("; ", now)).down();
        }
    }
}
