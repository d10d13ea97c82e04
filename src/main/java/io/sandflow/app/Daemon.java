package io.sandflow.app;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.sandflow.agent.OutcomeClassifier;
import io.sandflow.agent.Redactor;
import org.apache.camel.CamelContext;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.Main;
import org.apache.camel.main.MainListenerSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Boots Camel Main with Sandflow's routes and beans, and runs until stopped or, with {@code --once}, until the
 * inbox is drained.
 */
final class Daemon {

    /** Exit codes of {@code run --once}. */
    static final int OK = 0;
    static final int SOME_FAILED = 1;
    static final int CONFIG_ERROR = 2;
    static final int PARKED = 3;

    private static final Logger LOG = LoggerFactory.getLogger("sandflow");

    private final Settings settings;
    private final boolean once;
    private volatile int exitCode = OK;

    Daemon(Settings settings, boolean once) {
        this.settings = settings;
        this.once = once;
    }

    int run() throws Exception {
        Engine engine = Engine.configure(settings);
        Breaker breaker = new Breaker(settings);
        Duration grace = settings.duration("sandflow.shutdown.grace");
        Duration maxWait = settings.duration("sandflow.once.max-wait");
        if (!engine.sandbox.isolated()) {
            LOG.warn("UNSANDBOXED: sandflow.sandbox.kind=none, the agent runs directly on this machine with "
                    + "this user's rights (sandflow.sandbox.allow-unsandboxed=true)");
        }
        try (Engine opened = engine.open()) {
            Main main = new Main();
            main.setOverrideProperties(camelProperties(engine, grace));
            main.configure().withRoutesIncludePattern(routesPattern(settings.workDir()));
            Progress progress = new Progress(engine.inbox, settings.get("sandflow.include"));
            Redactor redactor = Redactor.of(System.getenv());
            main.bind("jobs", new JobSteps(engine, progress));
            main.bind("attempts", new AttemptSteps(engine, breaker,
                    new OutcomeClassifier(engine.agentTimeout, Clock.systemDefaultZone(), ZoneId.systemDefault())));
            main.bind("results", new ResultSteps(engine, redactor));
            main.bind("progress", progress);
            main.bind("agentBinding", new AgentExec.Binding());
            main.bind("agentExecutor", new AgentExec.Executor(engine.runner));
            main.bind("sandflowBreaker", breaker.circuitBreaker());
            ScheduledExecutorService control = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "sandflow-control");
                t.setDaemon(true);
                return t;
            });
            breaker.onTransition(state -> control.execute(() -> pauseOrResumeIntake(main.getCamelContext(), state)));
            if (once) {
                main.addMainListener(new MainListenerSupport() {
                    @Override
                    public void afterStart(BaseMainSupport m) {
                        DrainWatch watch = new DrainWatch(main, engine, progress, breaker, maxWait);
                        control.scheduleWithFixedDelay(watch::check, 200, 200, TimeUnit.MILLISECONDS);
                    }
                });
            }
            LOG.info("Sandflow {} on node {}: inbox {}, {} worker(s), sandbox {}, store {}",
                    once ? "draining the inbox" : "running", engine.nodeId, engine.inbox, engine.workers,
                    engine.sandbox.kind(), redactor.redact(settings.get("sandflow.store.url")));
            main.run();
            control.shutdownNow();
        }
        return exitCode;
    }

    private static void pauseOrResumeIntake(CamelContext context, CircuitBreaker.State state) {
        try {
            if (state == CircuitBreaker.State.OPEN || state == CircuitBreaker.State.FORCED_OPEN) {
                context.getRouteController().suspendRoute("intake");
            } else {
                context.getRouteController().resumeRoute("intake");
            }
        } catch (Exception e) {
            LOG.warn("cannot {} intake: {}", state == CircuitBreaker.State.OPEN ? "pause" : "resume", e.getMessage());
        }
    }

    private Properties camelProperties(Engine engine, Duration grace) {
        Properties props = settings.asProperties();
        // Camel resolves file URIs against the JVM's folder, which need not be the working folder (-C)
        props.setProperty("sandflow.inbox", engine.inbox.toString());
        Duration settle = settings.duration("sandflow.intake.settle");
        props.setProperty("derived.intake.settle-ms", Long.toString(Math.max(1, settle.toMillis())));
        props.setProperty("derived.intake.lock-timeout-ms", Long.toString(Math.max(10_000, settle.toMillis() * 10)));
        props.setProperty("derived.intake.poll-ms", Long.toString(settings.duration("sandflow.intake.poll").toMillis()));
        int perMinute = settings.positiveInt("sandflow.rate.per-minute");
        props.setProperty("derived.rate.period-ms", Long.toString(Math.max(1, 60_000L / perMinute)));
        // sandbox: as many consumer threads as the pool has sandboxes (a short names list caps the workers)
        props.setProperty("sandflow.workers", Integer.toString(engine.workers));
        props.setProperty("camel.main.name", "sandflow");
        props.setProperty("camel.main.shutdownTimeout", Long.toString(Math.max(1, grace.toSeconds())));
        props.setProperty("camel.main.shutdownSuppressLoggingOnTimeout", "true");
        props.setProperty("camel.main.inflightRepositoryBrowseEnabled", "false");
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

    /** Ends {@code run --once} when the inbox is drained, or with exit code 3 when jobs stay parked too long. */
    private final class DrainWatch {
        private final Main main;
        private final Engine engine;
        private final Progress progress;
        private final Breaker breaker;
        private final Duration maxWait;
        private final Pattern include;
        private Instant stalledSince;
        private boolean finished;

        DrainWatch(Main main, Engine engine, Progress progress, Breaker breaker, Duration maxWait) {
            this.main = main;
            this.engine = engine;
            this.progress = progress;
            this.breaker = breaker;
            this.maxWait = maxWait;
            this.include = Pattern.compile(settings.get("sandflow.include"));
        }

        void check() {
            if (finished) {
                return;
            }
            int inflight = main.getCamelContext().getInflightRepository().size();
            long waiting = waitingFiles();
            if (inflight == 0 && waiting == 0) {
                finish(progress.failed() > 0 ? SOME_FAILED : OK, "the inbox is drained");
                return;
            }
            boolean stalled = inflight == 0 || breaker.state() != CircuitBreaker.State.CLOSED;
            if (!stalled) {
                stalledSince = null;
                return;
            }
            if (stalledSince == null) {
                stalledSince = Instant.now();
            } else if (Duration.between(stalledSince, Instant.now()).compareTo(maxWait) > 0) {
                finish(PARKED, waiting + " file(s) still wait in the inbox after sandflow.once.max-wait="
                        + AttemptSteps.human(maxWait) + " (circuit breaker " + breaker.state() + ")");
            }
        }

        private long waitingFiles() {
            try (Stream<Path> files = Files.list(engine.inbox)) {
                return files.map(p -> p.getFileName().toString())
                        .filter(n -> !n.startsWith(".") && include.matcher(n).matches())
                        .count();
            } catch (IOException e) {
                return 0;
            }
        }

        private void finish(int code, String why) {
            finished = true;
            exitCode = code;
            LOG.info("run --once finished: {}; done {} failed {} skipped {} (exit {})", why, progress.done(),
                    progress.failed(), progress.skipped(), code);
            main.completed();
        }
    }
}
