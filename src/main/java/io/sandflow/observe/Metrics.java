package io.sandflow.observe;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.sandflow.job.JobState;
import io.sandflow.process.ProcessOutcome;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * Sandflow's own meters, in the registry Camel scrapes at {@code /observe/metrics}. Names follow Prometheus
 * conventions once Micrometer renders them: {@code sandflow.jobs} becomes {@code sandflow_jobs_total}, a timer is
 * in seconds. Job endings and attempt durations are this node's; queue, spend and tokens are the store's
 * (cluster-wide), read through {@link Standing} so that a scrape never waits on the database.
 */
public final class Metrics {

    /** Attempt duration buckets: agent runs last seconds to the better part of an hour. */
    private static final List<Duration> ATTEMPT_BUCKETS = List.of(Duration.ofSeconds(1), Duration.ofSeconds(5),
            Duration.ofSeconds(15), Duration.ofSeconds(30), Duration.ofMinutes(1), Duration.ofMinutes(2),
            Duration.ofMinutes(5), Duration.ofMinutes(10), Duration.ofMinutes(20), Duration.ofMinutes(30),
            Duration.ofHours(1));

    private final MeterRegistry registry;

    public Metrics(MeterRegistry registry) {
        this.registry = registry;
        // The usual ending exists from the start, so a dashboard shows 0 rather than "no data"
        jobs("ok", "none");
    }

    /**
     * Registers the gauges that read the store's counts, the breaker and the worker pool. The registry holds
     * what they read strongly: Micrometer's default weak reference lets a collection turn a gauge into NaN. The function counters keep the weak reference (their builder has
     * no other), so the caller keeps {@code standing} for as long as it runs.
     *
     * @param breaker the circuit breaker's state now
     * @param workers this node's workers
     * @param busy    how many of them run a job now
     */
    public void watch(Standing standing, Supplier<CircuitBreaker.State> breaker, IntSupplier workers,
                      IntSupplier busy) {
        Gauge.builder("sandflow.queue.jobs", standing, s -> s.view().waiting()).strongReference(true)
                .tag("state", "pending")
                .description("Jobs waiting for a worker: pending in the store, or inbox files not started")
                .register(registry);
        for (JobState state : List.of(JobState.RUNNING, JobState.PARKED)) {
            Gauge.builder("sandflow.queue.jobs", standing, s -> s.view().count(state)).strongReference(true)
                    .tag("state", state.name().toLowerCase(Locale.ROOT))
                    .description("Jobs in this state in the store, all nodes").register(registry);
        }
        FunctionCounter.builder("sandflow.spend.usd", standing, s -> s.view().store().totalCostUsd().doubleValue())
                .description("Spend reported by the agent, in USD, all jobs ever").register(registry);
        FunctionCounter.builder("sandflow.tokens", standing, s -> s.view().store().inputTokens())
                .tag("direction", "in").description("Input tokens, all jobs ever").register(registry);
        FunctionCounter.builder("sandflow.tokens", standing, s -> s.view().store().outputTokens())
                .tag("direction", "out").description("Output tokens, all jobs ever").register(registry);
        for (CircuitBreaker.State state : List.of(CircuitBreaker.State.CLOSED, CircuitBreaker.State.OPEN,
                CircuitBreaker.State.HALF_OPEN, CircuitBreaker.State.FORCED_OPEN)) {
            Gauge.builder("sandflow.breaker.state", breaker, b -> b.get() == state ? 1 : 0).strongReference(true)
                    .tag("state", state.name().toLowerCase(Locale.ROOT))
                    .description("1 for the circuit breaker's current state on this node").register(registry);
        }
        Gauge.builder("sandflow.workers", workers, IntSupplier::getAsInt).strongReference(true)
                .description("Workers on this node").register(registry);
        Gauge.builder("sandflow.workers.busy", busy, IntSupplier::getAsInt).strongReference(true)
                .description("Workers running a job on this node").register(registry);
    }

    /** One job ended on this node: outcome ok, failed, parked or skipped, and its failure class (none when ok). */
    void jobEnded(String outcome, String failureClass) {
        jobs(outcome, failureClass).increment();
    }

    /** One agent run ended: its wall time, by how it ended (exit 0, an error exit, or killed on timeout). */
    public void attempt(Duration took, ProcessOutcome outcome) {
        String result = outcome.timedOut() ? "timeout" : outcome.exitCode() == 0 ? "exit0" : "error";
        Timer.builder("sandflow.attempt.duration").tag("result", result)
                .serviceLevelObjectives(ATTEMPT_BUCKETS.toArray(Duration[]::new))
                .description("Wall time of one agent run").register(registry).record(took);
    }

    private Counter jobs(String outcome, String failureClass) {
        return Counter.builder("sandflow.jobs").tag("outcome", outcome).tag("class", failureClass)
                .description("Jobs ended on this node").register(registry);
    }
}
