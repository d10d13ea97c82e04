package io.sandflow.flow;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sandflow.agent.OutcomeClassifier;
import io.sandflow.agent.Redactor;
import io.sandflow.config.SandflowConfig;
import io.sandflow.config.Settings;
import io.sandflow.inbox.InboxEntries;
import io.sandflow.job.Durations;
import io.sandflow.observe.Metrics;
import io.sandflow.observe.Progress;
import io.sandflow.observe.Readiness;
import io.sandflow.observe.Standing;
import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.component.jsonvalidator.JsonUriSchemaLoader;
import org.apache.camel.health.HealthCheckRegistry;
import org.apache.camel.spi.Registry;
import org.apache.camel.support.LifecycleStrategySupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.ZoneId;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The Camel side of Sandflow: binds the beans the routes call ({@code jobs}, {@code attempts}, {@code results},
 * {@code budget}, {@code progress}, the repository {@code finishedJobs}, the exec binding and executor, the circuit
 * breaker, the intake's policy and filter) and the properties their placeholders use. The daemon, {@code doctor} and
 * the {@code @CamelMainTest} tests all boot Camel through this one class.
 */
public class SandflowConfiguration implements CamelConfiguration {

    private static final Logger LOG = LoggerFactory.getLogger("sandflow");

    private final SandflowConfig config;
    private final Node node;
    private final Shutdown shutdown = new Shutdown();
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
    /** The web console on the management server; null when sandflow.http.port is 0. */
    private final io.sandflow.console.ConsoleApi console;
    /** Masks the values of Sandflow's and the agent's secret variables in everything that leaves a job. */
    private final Redactor redactor;

    /** @param node this node, opened by the daemon, or not (doctor only creates the routes) */
    public SandflowConfiguration(SandflowConfig config, Node node) {
        this.config = config;
        this.node = node;
        this.breaker = new Breaker(config.breaker());
        this.inboxEntries = new InboxEntries(config.folders().inbox(), config.intake().include(),
                config.intake().followLinks());
        this.standing = new Standing(node::store, inboxEntries::countWaiting, config.observeRefresh());
        this.progress = new Progress(standing, metrics, Clock.systemUTC(), this::blockedReason);
        this.control = daemonThread("sandflow-control");
        this.checks = daemonThread("sandflow-checks");
        this.surroundings = new Surroundings(config, node::store, gate);
        this.backoffs = new Backoffs(control);
        this.redactor = Redactor.of(System.getenv(), config.agent().env());
        this.console = config.http().port() > 0 ? console() : null;
    }

    /** The console reads what `status` reads, the intake gate's holds, and the store and folders. */
    private io.sandflow.console.ConsoleApi console() {
        Settings s = config.settings();
        java.util.List<io.sandflow.report.ResultField> fields;
        try {
            fields = io.sandflow.report.ResultField.parseAll(s.list("sandflow.export.fields"));
        } catch (IllegalArgumentException e) {
            throw s.invalid("sandflow.export.fields", "must list NAME=/json/pointer entries separated by commas ("
                    + e.getMessage() + ")");
        }
        return new io.sandflow.console.ConsoleApi(new io.sandflow.console.ConsoleApi.Source(
                () -> io.sandflow.ops.StatusReport.read(node.store(), s, 5),
                () -> gate.holds().stream().map(h -> new io.sandflow.console.ConsoleApi.Hold(h.cause(), h.reason(),
                        h.since())).toList(),
                node::store, config.folders().outbox(), config.folders().failed(), config.folders().inbox(), fields,
                s.bool("sandflow.http.actions"), node.nodeId(), config.http().host()));
    }

    private static ScheduledExecutorService daemonThread(String name) {
        return Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    /** Why no job can run now, for the progress line's ETA: the breaker holds the queue; null when it does not. */
    private String blockedReason() {
        if (shutdown.isStopping()) {
            return "Sandflow is stopping";
        }
        CircuitBreaker.State state = breaker.state();
        if (state == CircuitBreaker.State.CLOSED) {
            return null;
        }
        String why = breaker.reason();
        return "the circuit breaker is " + state.name().toLowerCase(Locale.ROOT).replace('_', ' ')
                + (why == null || why.isBlank() ? "" : ": " + why);
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

    /** Stops the background threads once Camel has stopped. */
    void shutdownExecutors() {
        control.shutdownNow();
        checks.shutdownNow();
    }

    @Override
    public void configure(CamelContext context) {
        context.getPropertiesComponent().setOverrideProperties(camelProperties());
        Registry registry = context.getRegistry();
        ClaimedElsewhere claimedElsewhere = new ClaimedElsewhere(config.store().lease().toMillis());
        registry.bind("jobs", new JobSteps(config, node, standing, claimedElsewhere, gate, surroundings,
                inboxEntries, backoffs));
        registry.bind("finishedJobs", new FinishedJobs(node::store, config));
        registry.bind("attempts", new AttemptSteps(config, node, breaker,
                new OutcomeClassifier(config.agent().timeout(), Clock.systemDefaultZone(), ZoneId.systemDefault()),
                redactor, shutdown, backoffs, surroundings));
        registry.bind("budget", new Budget(config.budgetCap(), node::store, breaker));
        registry.bind("results", new ResultSteps(config, node, standing, redactor, surroundings));
        registry.bind("progress", progress);
        // The json-validator step checks results against the schema compiled at start, with Sandflow's settings
        JsonUriSchemaLoader schema = (camel, uri) -> config.results().validator().schema();
        registry.bind("resultSchema", schema);
        InProgressFiles inProgress = new InProgressFiles();
        registry.bind("inProgressFiles", inProgress);
        registry.bind("intakeWatch", new IntakeWatch(claimedElsewhere, inProgress, inboxEntries, backoffs, gate));
        registry.bind("inboxEntries", inboxEntries);
        // Before intake starts, so that the first counts already leave out what will never be processed
        inboxEntries.survey();
        // A due retry is queued for the retries route (seda: the sender does not wait for the job)
        org.apache.camel.ProducerTemplate retries = context.createProducerTemplate();
        backoffs.dispatchWith(file -> retries.sendBodyAndHeader("seda:retry", null, JobSteps.FILE,
                file.toAbsolutePath().toString()));
        registry.bind("agentBinding", new AgentExec.Binding());
        registry.bind("agentExecutor", new AgentExec.Executor(node.runner(), metrics::attempt));
        registry.bind("sandflowBreaker", breaker.circuitBreaker());
        registry.bind("intakePolicy", new IntakePolicy(gate, control));
        bindObservation(context, registry);
        if (console != null) {
            try {
                context.addRoutes(new io.sandflow.console.ConsoleRoutes(console));
            } catch (Exception e) {
                throw new IllegalStateException("cannot add the console's routes: " + e.getMessage(), e);
            }
        }
        surroundings.start(checks, config.intake().recheck());
        // The breaker logs its own state changes: one line each
        gate.selfLogging(Breaker.CAUSE);
        breaker.onTransition(state -> {
            if (state == CircuitBreaker.State.OPEN || state == CircuitBreaker.State.FORCED_OPEN) {
                gate.hold(Breaker.CAUSE, "the circuit breaker is open until " + breaker.openUntil() + ": "
                        + breaker.reason());
            } else if (state == CircuitBreaker.State.HALF_OPEN) {
                gate.probe(Breaker.CAUSE, "the circuit breaker is half-open: one job at a time probes the agent");
            } else {
                gate.release(Breaker.CAUSE);
            }
            try {
                control.execute(this::recordBreaker);
            } catch (RejectedExecutionException stopped) {
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
        metrics.watch(standing, breaker::state, config::workers, () -> node.pool() == null ? 0 : node.pool().busy());
        context.getManagementStrategy().addEventNotifier(progress.completions());
        HealthCheckRegistry health = HealthCheckRegistry.get(context);
        if (health != null) {
            Readiness readiness = new Readiness(() -> surroundings.readinessProblems(checks), this::breakerDetails);
            readiness.setCamelContext(context);
            health.register(readiness);
            if (health.getExcludePattern() == null) {
                // Intake is suspended on purpose while the breaker is open: that must not read as "not ready"
                health.setExcludePattern("route:intake,consumer:intake");
            }
        }
        context.addLifecycleStrategy(new LifecycleStrategySupport() {
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

    /** The breaker as readiness shows it: a detail, not a reason to be down. */
    private Map<String, String> breakerDetails() {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("breaker", breaker.state().name());
        if (breaker.openUntil() != null) {
            details.put("breaker.until", breaker.openUntil().toString());
            details.put("breaker.reason", breaker.reason());
        }
        return details;
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
            node.store().putState("breaker", text);
        } catch (RuntimeException e) {
            LOG.warn("cannot record the breaker's state in the store: {}", e.getMessage());
        }
    }

    /**
     * Shutdown: no new attempt starts; running agents get sandflow.shutdown.grace to finish, then their trees are
     * killed and their jobs go back to pending.
     */
    void beginShutdown(Duration grace) {
        shutdown.begin();
        int running = node.runner().running();
        if (running > 0) {
            LOG.info("stopping: {} agent(s) still running get {} to finish", running, Durations.human(grace));
        }
        control.schedule(() -> {
            int killed = node.runner().killAll();
            if (killed > 0) {
                LOG.warn("stopping: killed {} agent(s) still running after sandflow.shutdown.grace; their jobs "
                        + "stay pending", killed);
            }
        }, grace.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The settings plus the values the routes need in Camel's units. */
    Properties camelProperties() {
        Properties props = config.settings().asProperties();
        SandflowConfig.Intake intake = config.intake();
        // Camel resolves file URIs against the JVM's folder, which need not be the working folder (-C)
        props.setProperty("sandflow.inbox", config.folders().inbox().toString());
        // As many worker threads as the pool has sandboxes (a short sandflow.sandbox.names list caps the workers)
        props.setProperty("sandflow.workers", Integer.toString(config.workers()));
        Duration settle = intake.settle();
        // A file still being written is skipped for this poll (not waited on), so one slow upload never holds up
        // the files behind it
        long check = Math.max(10, settle.toMillis() / 4);
        props.setProperty("derived.intake.settle-ms", Long.toString(Math.max(1, settle.toMillis())));
        props.setProperty("derived.intake.check-ms", Long.toString(check));
        props.setProperty("derived.intake.lock-timeout-ms", Long.toString(settle.toMillis() + 3 * check));
        props.setProperty("derived.intake.poll-ms", Long.toString(intake.poll().toMillis()));
        // The survey lists the whole inbox: as often as the poll, but not more than once a second
        props.setProperty("derived.intake.survey-ms", Long.toString(Math.max(1000, intake.poll().toMillis())));
        props.setProperty("derived.lease.renew-ms",
                Long.toString(Math.max(100, config.store().lease().toMillis() / 3)));
        props.setProperty("derived.rate.period-ms", Long.toString(Math.max(1, 60_000L / config.ratePerMinute())));
        props.setProperty("derived.observe.refresh-ms", Long.toString(Math.max(100, config.observeRefresh().toMillis())));
        int port = config.http().port();
        if (port > 0) {
            // Camel's management server serves /observe/metrics and /observe/health; camel.* set by the user win
            props.putIfAbsent("camel.management.enabled", "true");
            // Camel listens on every interface unless told otherwise; Sandflow only where sandflow.http.host says
            props.putIfAbsent("camel.management.host", config.http().host());
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
    Map<String, String> camelMainProperties() {
        Map<String, String> out = new TreeMap<>();
        camelProperties().forEach((k, v) -> {
            if (k.toString().startsWith("camel.")) {
                out.put(k.toString(), v.toString());
            }
        });
        return out;
    }
}
