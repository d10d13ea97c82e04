package io.sandflow.app;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.sandflow.agent.OutcomeClassifier;
import io.sandflow.agent.Redactor;
import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.Registry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneId;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The Camel side of Sandflow: binds the beans the routes call ({@code jobs}, {@code attempts}, {@code results},
 * {@code progress}, the exec binding and executor, the circuit breaker) and the properties their placeholders use.
 * The daemon and the {@code @CamelMainTest} tests both boot Camel through this one class.
 */
public class SandflowConfiguration implements CamelConfiguration {

    private static final Logger LOG = LoggerFactory.getLogger("sandflow");

    private final Engine engine;
    private final Breaker breaker;
    private final Progress progress;
    private final ScheduledExecutorService control;

    SandflowConfiguration(Engine engine) {
        this.engine = engine;
        this.breaker = new Breaker(engine.settings);
        this.progress = new Progress(engine.inbox, engine.settings.get("sandflow.include"));
        this.control = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sandflow-control");
            t.setDaemon(true);
            return t;
        });
    }

    Engine engine() {
        return engine;
    }

    Breaker breaker() {
        return breaker;
    }

    Progress progress() {
        return progress;
    }

    /** Runs housekeeping off the worker threads (pausing intake, the --once drain watch). */
    ScheduledExecutorService control() {
        return control;
    }

    @Override
    public void configure(CamelContext context) {
        context.getPropertiesComponent().setOverrideProperties(camelProperties());
        Redactor redactor = Redactor.of(System.getenv());
        Registry registry = context.getRegistry();
        registry.bind("jobs", new JobSteps(engine, progress));
        registry.bind("attempts", new AttemptSteps(engine, breaker,
                new OutcomeClassifier(engine.agentTimeout, Clock.systemDefaultZone(), ZoneId.systemDefault())));
        registry.bind("results", new ResultSteps(engine, redactor));
        registry.bind("progress", progress);
        registry.bind("agentBinding", new AgentExec.Binding());
        registry.bind("agentExecutor", new AgentExec.Executor(engine.runner));
        registry.bind("sandflowBreaker", breaker.circuitBreaker());
        breaker.onTransition(state -> control.execute(() -> {
            recordBreaker(state);
            pauseOrResumeIntake(context, state);
        }));
    }

    /**
     * Pauses or resumes only the inbox poller. Suspending the whole route would wait for its in-flight jobs, which
     * are exactly the ones the breaker is parking, and would block this thread meanwhile.
     */
    private static void pauseOrResumeIntake(CamelContext context, CircuitBreaker.State state) {
        try {
            org.apache.camel.Route intake = context.getRoute("intake");
            if (intake == null) {
                return;
            }
            if (state == CircuitBreaker.State.OPEN || state == CircuitBreaker.State.FORCED_OPEN) {
                org.apache.camel.support.service.ServiceHelper.suspendService(intake.getConsumer());
            } else {
                org.apache.camel.support.service.ServiceHelper.resumeService(intake.getConsumer());
            }
        } catch (Exception e) {
            LOG.warn("cannot {} intake: {}", state == CircuitBreaker.State.OPEN ? "pause" : "resume", e.getMessage());
        }
    }

    /** The breaker's state in the store, so that `status` shows it from another process. */
    private void recordBreaker(CircuitBreaker.State state) {
        try {
            String until = breaker.openUntil() == null ? "" : " until " + breaker.openUntil();
            engine.store().putState("breaker", state + until
                    + (state == CircuitBreaker.State.CLOSED ? "" : ": " + breaker.reason()));
        } catch (RuntimeException e) {
            LOG.warn("cannot record the breaker's state in the store: {}", e.getMessage());
        }
    }

    /**
     * Shutdown: no new attempt starts; running agents get sandflow.shutdown.grace to finish, then their trees are
     * killed and their jobs go back to pending.
     */
    void beginShutdown(Duration grace) {
        engine.stopping = true;
        int running = engine.runner.running();
        if (running > 0) {
            LOG.info("stopping: {} agent(s) still running get {} to finish", running, AttemptSteps.human(grace));
        }
        control.schedule(() -> {
            int killed = engine.runner.killAll();
            if (killed > 0) {
                LOG.warn("stopping: killed {} agent(s) still running after sandflow.shutdown.grace; their jobs "
                        + "stay pending", killed);
            }
        }, grace.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** The settings plus the values the routes need in Camel's units. */
    Properties camelProperties() {
        Settings settings = engine.settings;
        Properties props = settings.asProperties();
        // Camel resolves file URIs against the JVM's folder, which need not be the working folder (-C)
        props.setProperty("sandflow.inbox", engine.inbox.toString());
        // As many worker threads as the pool has sandboxes (a short sandflow.sandbox.names list caps the workers)
        props.setProperty("sandflow.workers", Integer.toString(engine.workers));
        Duration settle = settings.duration("sandflow.intake.settle");
        // A file still being written is skipped for this poll (not waited on), so one slow upload never holds up
        // the files behind it
        long check = Math.max(10, settle.toMillis() / 4);
        props.setProperty("derived.intake.settle-ms", Long.toString(Math.max(1, settle.toMillis())));
        props.setProperty("derived.intake.check-ms", Long.toString(check));
        props.setProperty("derived.intake.lock-timeout-ms", Long.toString(settle.toMillis() + 3 * check));
        props.setProperty("derived.intake.poll-ms", Long.toString(settings.duration("sandflow.intake.poll").toMillis()));
        props.setProperty("derived.lease.renew-ms", Long.toString(Math.max(100, engine.lease.toMillis() / 3)));
        int perMinute = settings.positiveInt("sandflow.rate.per-minute");
        props.setProperty("derived.rate.period-ms", Long.toString(Math.max(1, 60_000L / perMinute)));
        return props;
    }

    /** The working folder's routes/ when it has one, so users can edit the flow; else the routes in the jar. */
    static String routesPattern(Path workDir) {
        Path routes = workDir.resolve("routes");
        if (Files.isDirectory(routes)) {
            return "file:" + routes.toAbsolutePath() + "/*.camel.yaml";
        }
        return "classpath:routes/*.camel.yaml";
    }
}
