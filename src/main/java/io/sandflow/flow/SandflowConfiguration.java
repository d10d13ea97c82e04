package io.sandflow.flow;

import io.sandflow.config.Settings;
import io.sandflow.inbox.InboxEntries;
import io.sandflow.observe.Metrics;
import io.sandflow.observe.Progress;
import io.sandflow.observe.Readiness;
import io.sandflow.observe.Standing;
import io.sandflow.job.Durations;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.sandflow.agent.OutcomeClassifier;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sandflow.agent.Redactor;
import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.health.HealthCheckRegistry;
import org.apache.camel.spi.Registry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
    private final Standing standing;
    private final IntakeGate gate = new IntakeGate();
    private final InboxEntries inboxEntries;
    /** Inbox files whose jobs wait out a backoff: the intake passes over them, the retries route takes them when due. */
    private final Backoffs backoffs;
    /** Sandflow's meters; the Prometheus registry Camel scrapes joins it in {@link #configure}. */
    private final CompositeMeterRegistry meters = new CompositeMeterRegistry();
    private final Metrics metrics = new Metrics(meters);
    private final ScheduledExecutorService control;
    /** Re-checks of the store and folders, and readiness probes: calls that may block for a store's timeout. */
    private final ScheduledExecutorService checks;
    private final Surroundings surroundings;

    public SandflowConfiguration(Engine engine) {
        this.engine = engine;
        this.breaker = new Breaker(engine.settings);
        this.inboxEntries = new InboxEntries(engine.inbox, engine.settings.get("sandflow.include"),
                engine.followLinks);
        this.standing = new Standing(engine::store, inboxEntries::countWaiting,
                engine.settings.duration("sandflow.observe.refresh"));
        this.progress = new Progress(standing, metrics, Clock.systemUTC(), this::blockedReason);
        this.control = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sandflow-control");
            t.setDaemon(true);
            return t;
        });
        this.checks = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sandflow-checks");
            t.setDaemon(true);
            return t;
        });
        this.surroundings = new Surroundings(engine, gate);
        this.backoffs = new Backoffs(control);
    }

    /** Why no job can run now, for the progress line's ETA: the breaker holds the queue; null when it does not. */
    private String blockedReason() {
        if (engine.stopping) {
            return "Sandflow is stopping";
        }
        CircuitBreaker.State state = breaker.state();
        if (state == CircuitBreaker.State.CLOSED) {
            return null;
        }
        String why = breaker.reason();
        return "the circuit breaker is " + state.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ')
                + (why == null || why.isBlank() ? "" : ": " + why);
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

    IntakeGate gate() {
        return gate;
    }

    InboxEntries inboxEntries() {
        return inboxEntries;
    }

    Backoffs backoffs() {
        return backoffs;
    }

    /** Runs housekeeping off the worker threads (pausing intake, the --once drain watch). */
    ScheduledExecutorService control() {
        return control;
    }

    Surroundings surroundings() {
        return surroundings;
    }

    /** Stops the background threads once Camel has stopped. */
    void shutdownExecutors() {
        control.shutdownNow();
        checks.shutdownNow();
    }

    @Override
    public void configure(CamelContext context) {
        context.getPropertiesComponent().setOverrideProperties(camelProperties());
        Redactor redactor = engine.redactor;
        Registry registry = context.getRegistry();
        ClaimedElsewhere claimedElsewhere = new ClaimedElsewhere(engine.lease.toMillis());
        registry.bind("jobs", new JobSteps(engine, progress, standing, claimedElsewhere, gate, surroundings,
                inboxEntries, backoffs));
        registry.bind("attempts", new AttemptSteps(engine, breaker,
                new OutcomeClassifier(engine.agentTimeout, Clock.systemDefaultZone(), ZoneId.systemDefault()),
                redactor, backoffs));
        registry.bind("results", new ResultSteps(engine, standing, redactor, surroundings));
        registry.bind("progress", progress);
        InProgressFiles inProgress = new InProgressFiles();
        registry.bind("inProgressFiles", inProgress);
        registry.bind("intakeWatch", new IntakeWatch(claimedElsewhere, inProgress, inboxEntries, backoffs, gate));
        registry.bind("inboxEntries", inboxEntries);
        // Before intake starts, so that the first counts already leave out what will never be processed
        inboxEntries.survey();
        // A due retry is queued for the retries route (seda: the sender does not wait for the job)
        org.apache.camel.ProducerTemplate retries = context.createProducerTemplate();
        backoffs.dispatchWith(file -> retries.sendBodyAndHeader("seda:retry", null, "CamelFileAbsolutePath",
                file.toAbsolutePath().toString()));
        registry.bind("agentBinding", new AgentExec.Binding());
        registry.bind("agentExecutor", new AgentExec.Executor(engine.runner, metrics::attempt));
        registry.bind("sandflowBreaker", breaker.circuitBreaker());
        registry.bind("intakePolicy", new IntakePolicy(gate, control));
        bindObservation(context, registry);
        surroundings.start(checks, engine.recheck);
        // The breaker logs its own state changes: one line each
        gate.selfLogging("breaker");
        breaker.onTransition(state -> {
            if (state == CircuitBreaker.State.OPEN || state == CircuitBreaker.State.FORCED_OPEN) {
                gate.hold("breaker", "the circuit breaker is open until " + breaker.openUntil() + ": "
                        + breaker.reason());
            } else if (state == CircuitBreaker.State.HALF_OPEN) {
                gate.probe("breaker", "the circuit breaker is half-open: one job at a time probes the agent");
            } else {
                gate.release("breaker");
            }
            try {
                control.execute(this::recordBreaker);
            } catch (java.util.concurrent.RejectedExecutionException stopped) {
                // the daemon is stopping; it records the breaker's last state itself
            }
        });
    }

    /**
     * Progress, metrics and readiness. camel-micrometer-prometheus serves the registry bound as
     * {@code metricsRegistry}, creating one when there is none; Sandflow's meters go to that same registry, so
     * that they share one scrape with Camel's.
     */
    private void bindObservation(CamelContext context, Registry registry) {
        registry.bind("standing", standing);
        PrometheusMeterRegistry prometheus = registry.lookupByNameAndType("metricsRegistry",
                PrometheusMeterRegistry.class);
        if (prometheus == null) {
            prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            registry.bind("metricsRegistry", prometheus);
        }
        meters.add(prometheus);
        metrics.watch(standing, breaker, engine);
        context.getManagementStrategy().addEventNotifier(progress.completions());
        HealthCheckRegistry health = HealthCheckRegistry.get(context);
        if (health != null) {
            Readiness readiness = new Readiness(engine, breaker, gate, surroundings, checks);
            readiness.setCamelContext(context);
            health.register(readiness);
            if (health.getExcludePattern() == null) {
                // Intake is suspended on purpose while the breaker is open: that must not read as "not ready"
                health.setExcludePattern("route:intake,consumer:intake");
            }
        }
        context.addLifecycleStrategy(new org.apache.camel.support.LifecycleStrategySupport() {
            /** Only a context that ran jobs has something to say when it stops (doctor only builds one). */
            private volatile boolean started;

            @Override
            public void onContextStarted(CamelContext context) {
                started = true;
            }

            @Override
            public void onContextStopped(CamelContext stopped) {
                progress.close();
                if (started) {
                    // Every job has ended by now (Camel waited for them): the last word on what the next start finds
                    LOG.info(progress.leftPending(inboxEntries.countWaiting()));
                }
            }
        });
    }

    /**
     * The breaker's state in the store as it is now, so that `status` shows it from another process: written at
     * start, after each change (read when written, so a late write never puts back an older state) and at stop.
     */
    void recordBreaker() {
        putBreakerState(breaker.describe());
    }

    /**
     * At stop: no breaker holds anything once the daemon is gone (a new start begins closed), but `status` still
     * says what the last one was, when it was not closed.
     */
    void recordBreakerStopped() {
        String last = breaker.describe();
        putBreakerState(breaker.state() == CircuitBreaker.State.CLOSED ? last
                : "CLOSED (the daemon stopped; its breaker was " + last + ")");
    }

    private void putBreakerState(String text) {
        try {
            engine.store().putState("breaker", text);
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
            LOG.info("stopping: {} agent(s) still running get {} to finish", running, Durations.human(grace));
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
        // The survey lists the whole inbox: as often as the poll, but not more than once a second
        props.setProperty("derived.intake.survey-ms",
                Long.toString(Math.max(1000, settings.duration("sandflow.intake.poll").toMillis())));
        props.setProperty("derived.lease.renew-ms", Long.toString(Math.max(100, engine.lease.toMillis() / 3)));
        int perMinute = settings.positiveInt("sandflow.rate.per-minute");
        props.setProperty("derived.rate.period-ms", Long.toString(Math.max(1, 60_000L / perMinute)));
        props.setProperty("derived.observe.refresh-ms",
                Long.toString(Math.max(100, settings.duration("sandflow.observe.refresh").toMillis())));
        int port = engine.httpPort;
        if (port > 0) {
            // Camel's management server serves /observe/metrics and /observe/health; camel.* set by the user win
            props.putIfAbsent("camel.management.enabled", "true");
            // Camel listens on every interface unless told otherwise; Sandflow only where sandflow.http.host says
            props.putIfAbsent("camel.management.host", engine.httpHost);
            props.putIfAbsent("camel.management.port", Integer.toString(port));
            props.putIfAbsent("camel.management.metricsEnabled", "true");
            props.putIfAbsent("camel.management.healthCheckEnabled", "true");
            props.putIfAbsent("camel.metrics.enabled", "true");
            // full: an UP check still shows its details, such as the breaker's state
            props.putIfAbsent("camel.health.exposureLevel", "full");
        }
        return props;
    }

    /** The camel.* entries of {@link #camelProperties()}, which Camel Main reads before {@link #configure} runs. */
    java.util.Map<String, String> camelMainProperties() {
        java.util.Map<String, String> out = new java.util.TreeMap<>();
        camelProperties().forEach((k, v) -> {
            if (k.toString().startsWith("camel.")) {
                out.put(k.toString(), v.toString());
            }
        });
        return out;
    }

    /** The route files built into the jar (a test keeps this list equal to the project's routes/ folder). */
    static final java.util.List<String> BUILT_IN_ROUTES = RouteFiles.BUILT_IN;

    /**
     * The routes a working folder runs: its routes/ files replace the built-in files of the same names, the others
     * stay built in, and its other *.camel.yaml files are added (see {@link RouteFiles}).
     */
    static String routesPattern(Path workDir) {
        return RouteFiles.of(workDir).includePattern();
    }
}
