package io.sandflow.flow;

import io.sandflow.config.SandflowConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.event.CircuitBreakerOnStateTransitionEvent;
import io.sandflow.job.JobFailure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Consumer;

/**
 * The circuit breaker around the agent call. Camel's circuitBreaker EIP uses this instance (bound as
 * {@code sandflowBreaker}). It opens only on evidence that the agent service is down for everyone: failures whose
 * {@link io.sandflow.job.FailureScope} is the service's, at most one per job in its window, so that one input
 * failing again and again cannot open it. An input's own failure (a timeout, a crash, an unusable answer) is
 * ignored: neither a failure nor a success, so a half-open probe that fails that way leaves it half-open for the
 * next probe. Sandflow also opens it at once on systemic failures. It logs one line per state change.
 */
public final class Breaker {

    private static final Logger LOG = LoggerFactory.getLogger("sandflow.breaker");
    private static final String DEFAULT_REASON = "too many failed agent calls";
    /** The breaker's cause on the intake gate. */
    static final String CAUSE = "breaker";

    /** One outcome in the window: whose, and whether it was a failure. */
    private record Outcome(long jobId, boolean failed) {
    }

    private final CircuitBreaker breaker;
    private final Duration openFor;
    private final int window;
    /** The jobs behind the outcomes the breaker's window holds, oldest first; cleared when the breaker changes state. */
    private final Deque<Outcome> recent = new ArrayDeque<>();
    private volatile String reason = DEFAULT_REASON;
    private volatile Instant openUntil;

    public Breaker(SandflowConfig.Breaker s) {
        this.openFor = s.openFor();
        this.window = s.window();
        int minCalls = s.minCalls();
        CircuitBreakerConfig config = CircuitBreakerConfig.custom()
                .failureRateThreshold((float) s.failureRate())
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(window)
                .minimumNumberOfCalls(Math.min(minCalls, window))
                .waitDurationInOpenState(openFor)
                .permittedNumberOfCallsInHalfOpenState(1)
                .automaticTransitionFromOpenToHalfOpenEnabled(true)
                // An input's own failure, or a repeat of a job's failure already in the window, is no evidence
                .ignoreException(t -> t instanceof JobFailure f && !f.countsTowardBreaker())
                .build();
        this.breaker = CircuitBreaker.of("agent", config);
        breaker.getEventPublisher().onStateTransition(e -> {
            synchronized (recent) {
                recent.clear();
            }
        });
    }

    CircuitBreaker circuitBreaker() {
        return breaker;
    }

    /**
     * The failure of one of this job's agent calls as the breaker is to count it: a service failure counts unless
     * the window already holds a failure of the same job; an input's own failure never counts.
     */
    JobFailure judge(long jobId, JobFailure failure) {
        if (!failure.countsTowardBreaker()) {
            return failure;
        }
        synchronized (recent) {
            if (recent.stream().anyMatch(o -> o.failed() && o.jobId() == jobId)) {
                return failure.notCountedAgain();
            }
            remember(new Outcome(jobId, true));
        }
        return failure;
    }

    /** The agent service answered this job's call (whatever the answer was worth): a success in the window. */
    void answered(long jobId) {
        synchronized (recent) {
            remember(new Outcome(jobId, false));
        }
    }

    private void remember(Outcome outcome) {
        recent.addLast(outcome);
        while (recent.size() > window) {
            recent.removeFirst();
        }
    }

    /** Calls the listener on every state change, after logging it once. */
    void onTransition(Consumer<CircuitBreaker.State> listener) {
        breaker.getEventPublisher().onStateTransition((CircuitBreakerOnStateTransitionEvent e) -> {
            CircuitBreaker.State to = e.getStateTransition().getToState();
            if (to == CircuitBreaker.State.OPEN || to == CircuitBreaker.State.FORCED_OPEN) {
                if (openUntil == null || openUntil.isBefore(Instant.now())) {
                    openUntil = Instant.now().plus(openFor);
                }
                LOG.warn("circuit breaker OPEN until {}: {}; intake paused", openUntil, reason);
            } else if (to == CircuitBreaker.State.HALF_OPEN) {
                LOG.info("circuit breaker HALF_OPEN: one job at a time probes the agent");
            } else if (to == CircuitBreaker.State.CLOSED) {
                openUntil = null;
                reason = DEFAULT_REASON;
                LOG.info("circuit breaker CLOSED: intake resumes");
            }
            listener.accept(to);
        });
    }

    /** Opens the breaker now, until the given time when known, else for sandflow.breaker.open-for. */
    public void openUntil(Instant until, String why) {
        this.reason = why;
        Instant end = until != null && until.isAfter(Instant.now()) ? until : Instant.now().plus(openFor);
        this.openUntil = end;
        CircuitBreaker.State state = breaker.getState();
        if (state == CircuitBreaker.State.OPEN || state == CircuitBreaker.State.FORCED_OPEN) {
            return;
        }
        breaker.transitionToOpenStateUntil(end);
    }

    public String reason() {
        return reason;
    }

    public Instant openUntil() {
        return openUntil;
    }

    public CircuitBreaker.State state() {
        return breaker.getState();
    }

    /** The state as `status` shows it: "CLOSED", "HALF_OPEN: reason", "OPEN until TIME: reason". */
    String describe() {
        CircuitBreaker.State state = breaker.getState();
        if (state == CircuitBreaker.State.CLOSED) {
            return state.name();
        }
        Instant until = openUntil;
        String when = state == CircuitBreaker.State.HALF_OPEN || until == null ? "" : " until " + until;
        return state + when + ": " + reason;
    }
}
