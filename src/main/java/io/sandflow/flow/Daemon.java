package io.sandflow.flow;

import io.sandflow.config.ConfigException;
import io.sandflow.config.SandflowConfig;
import io.sandflow.inbox.InboxEntries;
import io.sandflow.observe.Progress;
import io.sandflow.job.Durations;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.sandflow.agent.Redactor;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.Main;
import org.apache.camel.main.MainListenerSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Boots Camel Main with Sandflow's routes and beans, and runs until stopped or, with {@code --once}, until the
 * inbox is drained.
 */
public final class Daemon {

    /** Exit codes of {@code run --once}. */
    static final int OK = 0;
    static final int SOME_FAILED = 1;
    public static final int CONFIG_ERROR = 2;
    static final int PARKED = 3;

    private static final Logger LOG = LoggerFactory.getLogger("sandflow");

    private final SandflowConfig config;
    private final boolean once;
    private volatile int exitCode = OK;

    public Daemon(SandflowConfig config, boolean once) {
        this.config = config;
        this.once = once;
    }

    public int run() throws Exception {
        RouteFiles routes = RouteFiles.of(config.folders().workDir());
        // Before anything is taken or created: a route error leaves the working folder as it was
        routes.check();
        Duration grace = config.shutdownGrace();
        Duration maxWait = config.onceMaxWait();
        if (!config.sandbox().sandbox().isolated()) {
            LOG.warn("UNSANDBOXED: sandflow.sandbox.kind=none, the agent runs directly on this machine with "
                    + "this user's rights (sandflow.sandbox.allow-unsandboxed=true)");
        }
        try (Node node = new Node(config).open()) {
            SandflowConfiguration camel = new SandflowConfiguration(config, node);
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
                    node.store();
                    // Whatever an earlier run left there, this one starts with its breaker closed
                    camel.recordBreaker();
                    LOG.info("Sandflow {} on node {}: inbox {}, {} worker(s), sandbox {}, store {}",
                            once ? "draining the inbox" : "running", node.nodeId(), config.folders().inbox(),
                            config.workers(), config.sandbox().sandbox().kind(),
                            Redactor.of(System.getenv()).redact(config.store().url()));
                }
            });
            if (once) {
                main.addMainListener(new MainListenerSupport() {
                    @Override
                    public void afterStart(BaseMainSupport m) {
                        DrainWatch watch = new DrainWatch(main, camel.inboxEntries(), camel.progress(),
                                camel.breaker(), camel.gate(), camel.backoffs(), maxWait);
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
            camel.shutdownExecutors();
            node.runner().killAll();
            camel.recordBreakerStopped();
            node.stopped();
        }
        return exitCode;
    }

    /** Ends {@code run --once} when the inbox is drained, or with exit code 3 when jobs stay parked too long. */
    private final class DrainWatch {
        private final Main main;
        private final InboxEntries entries;
        private final Progress progress;
        private final Breaker breaker;
        private final IntakeGate gate;
        private final Backoffs backoffs;
        private final Duration maxWait;
        private Instant stalledSince;
        private boolean finished;

        DrainWatch(Main main, InboxEntries entries, Progress progress, Breaker breaker, IntakeGate gate,
                   Backoffs backoffs, Duration maxWait) {
            this.main = main;
            this.entries = entries;
            this.progress = progress;
            this.breaker = breaker;
            this.gate = gate;
            this.backoffs = backoffs;
            this.maxWait = maxWait;
        }

        void check() {
            if (finished) {
                return;
            }
            // Jobs only: the timer routes, which may wait on a store that is down, are neither work nor a stall
            var inflights = main.getCamelContext().getInflightRepository();
            int inflight = inflights.size("intake") + inflights.size("retries") + inflights.size("inbox-survey");
            if (inflight > 0 && breaker.state() == CircuitBreaker.State.CLOSED) {
                // Jobs are running: neither drained nor stalled, and no need to look at the inbox (which may hold
                // 100,000 files) five times a second
                stalledSince = null;
                return;
            }
            // Waiting: an input still to process or fail, never a directory, FIFO, socket or device; an inbox that
            // cannot be read is not drained, and the stall timer below ends the run with exit 3
            if (inflight == 0 && !entries.anyWaiting()) {
                finish(progress.failed() > 0 ? SOME_FAILED : OK, "the inbox is drained");
                return;
            }
            if (breaker.state() == CircuitBreaker.State.CLOSED && gate.isOpen() && backoffs.anyWaiting()) {
                // A job waiting out its backoff runs again by itself: the batch is not stalled
                stalledSince = null;
                return;
            }
            if (stalledSince == null) {
                stalledSince = Instant.now();
            } else if (Duration.between(stalledSince, Instant.now()).compareTo(maxWait) > 0) {
                // While the store or a folder fails, intake stays paused: the run waits for it within max-wait,
                // then says why it stopped
                String why = gate.holds().stream().filter(h -> !h.cause().equals(Breaker.CAUSE))
                        .map(IntakeGate.Hold::reason).reduce((a, b) -> a + "; " + b)
                        .orElse("circuit breaker " + breaker.state());
                finish(PARKED, entries.countWaiting() + " file(s) still wait in the inbox after sandflow.once.max-wait="
                        + Durations.human(maxWait) + " (" + why + ")");
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
