package io.sandflow.observe;

import io.sandflow.flow.Breaker;
import io.sandflow.flow.Engine;
import io.sandflow.flow.IntakeGate;
import io.sandflow.flow.Surroundings;
import io.sandflow.job.Durations;
import io.sandflow.process.ProcessRunner;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Sandflow's readiness ({@code /observe/health/ready}): down, with the reasons, when a cause other than the breaker
 * holds intake (the store, a folder), the store cannot be reached, the agent CLI or sandbox tool is missing, or a
 * folder a job writes to cannot be written or is full. An open circuit breaker is a
 * detail, not a reason: the daemon is alive and resumes by itself.
 */
public final class Readiness extends AbstractHealthCheck {

    /** A store that does not answer in this time counts as unreachable; a health probe must answer quickly. */
    private static final Duration STORE_TIMEOUT = Duration.ofSeconds(2);

    private final Engine engine;
    private final Breaker breaker;
    private final IntakeGate gate;
    private final Surroundings surroundings;
    private final ExecutorService probes;

    public Readiness(Engine engine, Breaker breaker, IntakeGate gate, Surroundings surroundings, ExecutorService probes) {
        super("sandflow", "sandflow");
        this.engine = engine;
        this.breaker = breaker;
        this.gate = gate;
        this.surroundings = surroundings;
        this.probes = probes;
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        List<String> problems = problems();
        builder.detail("breaker", breaker.state().name());
        if (breaker.openUntil() != null) {
            builder.detail("breaker.until", breaker.openUntil().toString());
            builder.detail("breaker.reason", breaker.reason());
        }
        if (problems.isEmpty()) {
            builder.up();
        } else {
            builder.message(String.join("; ", problems)).down();
        }
    }

    /** What keeps Sandflow from doing its work now, one sentence each; empty when ready. */
    List<String> problems() {
        List<String> problems = new ArrayList<>();
        // Every cause that holds intake but the breaker, which is a detail: the daemon resumes by itself
        for (IntakeGate.Hold hold : gate.holds()) {
            if (!hold.cause().equals("breaker")) {
                problems.add(hold.reason());
            }
        }
        if (!gate.isHeldBy(Surroundings.STORE)) {
            String store = storeProblem();
            if (store != null) {
                problems.add(store);
            }
        }
        for (Map.Entry<String, String> program : programs().entrySet()) {
            if (ProcessRunner.locate(program.getKey()).isEmpty()) {
                problems.add(program.getValue() + ": cannot find the program '" + program.getKey() + "'");
            }
        }
        if (!gate.isHeldBy(Surroundings.FOLDER)) {
            surroundings.folderProblem().ifPresent(problems::add);
        }
        return problems;
    }

    private String storeProblem() {
        CompletableFuture<Object> read = CompletableFuture.supplyAsync(() -> engine.store().getState("breaker"), probes);
        try {
            read.get(STORE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return null;
        } catch (java.util.concurrent.TimeoutException e) {
            read.cancel(true);
            return "the job store does not answer within " + Durations.human(STORE_TIMEOUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while reading the job store";
        } catch (java.util.concurrent.ExecutionException e) {
            return "the job store cannot be read: " + e.getCause().getMessage();
        }
    }

    /** The programs a run needs on this machine, each with the setting that names it. */
    private Map<String, String> programs() {
        Map<String, String> programs = new LinkedHashMap<>();
        if (engine.sandbox.agentRunsOnHost()) {
            programs.put(engine.agent.command(), "sandflow.agent.command");
        }
        engine.sandbox.program().ifPresent(p -> programs.put(p, "sandflow.sandbox.kind=" + engine.sandbox.kind()));
        return programs;
    }
}
