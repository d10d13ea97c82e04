package io.sandflow.app;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.sandflow.agent.Redactor;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.Main;
import org.apache.camel.main.MainListenerSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.RejectedExecutionException;
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
        RouteFiles routes = RouteFiles.of(settings.workDir());
        routes.check();
        Duration grace = settings.duration("sandflow.shutdown.grace");
        Duration maxWait = settings.duration("sandflow.once.max-wait");
        if (!engine.sandbox.isolated()) {
            LOG.warn("UNSANDBOXED: sandflow.sandbox.kind=none, the agent runs directly on this machine with "
                    + "this user's rights (sandflow.sandbox.allow-unsandboxed=true)");
        }
        try (Engine opened = engine.open()) {
            SandflowConfiguration camel = new SandflowConfiguration(engine);
            if (once) {
                camel.progress().liveBarIfTerminal();
            }
            Main main = new Main();
            main.configure().addConfiguration(camel);
            // Camel Main configures itself (camel.management.*, camel.metrics.*) before the configuration class runs
            camel.camelMainProperties().forEach(main::addOverrideProperty);
            main.configure().withRoutesIncludePattern(routes.includePattern());
            main.configure().withName("sandflow");
            // Camel waits past the grace so that jobs whose agents were killed can still record that they are pending
            main.configure().withShutdownTimeout((int) Math.max(1, grace.toSeconds() + 15));
            main.addMainListener(new MainListenerSupport() {
                @Override
                public void beforeStop(BaseMainSupport m) {
                    camel.beginShutdown(grace);
                }
            });
            main.configure().withShutdownSuppressLoggingOnTimeout(true);
            main.addMainListener(new MainListenerSupport() {
                @Override
                public void beforeStart(BaseMainSupport m) {
                    // The store opened while Camel built the routes; they start consuming only once it is open
                    engine.store();
                    LOG.info("Sandflow {} on node {}: inbox {}, {} worker(s), sandbox {}, store {}",
                            once ? "draining the inbox" : "running", engine.nodeId, engine.inbox, engine.workers,
                            engine.sandbox.kind(), Redactor.of(System.getenv()).redact(Engine.storeUrl(settings)));
                }
            });
            if (once) {
                main.addMainListener(new MainListenerSupport() {
                    @Override
                    public void afterStart(BaseMainSupport m) {
                        DrainWatch watch = new DrainWatch(main, engine, camel.progress(), camel.breaker(), maxWait);
                        camel.control().scheduleWithFixedDelay(watch::check, 200, 200, TimeUnit.MILLISECONDS);
                        // and right after each job, so that the last one ends the run at once, not at the next tick
                        // (the exchange leaves Camel's in-flight list just after this event: hence the few ms)
                        camel.progress().afterExchange(() -> {
                            try {
                                camel.control().schedule(watch::check, 5, TimeUnit.MILLISECONDS);
                            } catch (RejectedExecutionException stopping) {
                                // the run is ending anyway
                            }
                        });
                    }
                });
            }
            try {
                main.run();
            } catch (Exception e) {
                // A route Camel cannot load or create (a bean or method that does not exist) is the user's to fix
                ConfigException sentence = routes.explain(e);
                throw sentence != null ? sentence : e;
            }
            camel.control().shutdownNow();
            engine.runner.killAll();
        }
        return exitCode;
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
            if (inflight > 0 && breaker.state() == CircuitBreaker.State.CLOSED) {
                // Jobs are running: neither drained nor stalled, and no need to look at the inbox (which may hold
                // 100,000 files) five times a second
                stalledSince = null;
                return;
            }
            if (inflight == 0 && !anyFileWaiting()) {
                finish(progress.failed() > 0 ? SOME_FAILED : OK, "the inbox is drained");
                return;
            }
            if (stalledSince == null) {
                stalledSince = Instant.now();
            } else if (Duration.between(stalledSince, Instant.now()).compareTo(maxWait) > 0) {
                finish(PARKED, waitingFiles() + " file(s) still wait in the inbox after sandflow.once.max-wait="
                        + AttemptSteps.human(maxWait) + " (circuit breaker " + breaker.state() + ")");
            }
        }

        private boolean anyFileWaiting() {
            try (Stream<Path> files = Files.list(engine.inbox)) {
                return files.anyMatch(this::waits);
            } catch (IOException e) {
                // An inbox that cannot be read is not drained; the stall timer ends the run with exit 3
                return true;
            }
        }

        private boolean waits(Path file) {
            String n = file.getFileName().toString();
            return !n.startsWith(".") && include.matcher(n).matches();
        }

        private long waitingFiles() {
            try (Stream<Path> files = Files.list(engine.inbox)) {
                return files.filter(this::waits).count();
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
