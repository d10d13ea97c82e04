package io.sandflow.app;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.event.CircuitBreakerOnStateTransitionEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.function.Consumer;

/**
 * The circuit breaker around the agent call. Camel's circuitBreaker EIP uses this instance (bound as
 * {@code sandflowBreaker}); Sandflow opens it at once on systemic failures, pauses intake while it is open and
 * resumes it when one job may probe.
 */
final class Breaker {

    private static final Logger LOG = LoggerFactory.getLogger("sandflow.breaker");

    private final CircuitBreaker breaker;
    private final Duration openFor;
    private volatile String reason = "too many failed agent calls";
    private volatile Instant openUntil;

    Breaker(Settings s) {
        this.openFor = s.duration("sandflow.breaker.open-for");
        int window = s.positiveInt("sandflow.breaker.window");
        int minCalls = s.positiveInt("sandflow.breaker.min-calls");
        CircuitBreakerConfig config = CircuitBreakerConfig.custom()
                .failureRateThreshold((float) s.decimal("sandflow.breaker.failure-rate", 1, 100))
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(window)
                .minimumNumberOfCalls(Math.min(minCalls, window))
                .waitDurationInOpenState(openFor)
                .permittedNumberOfCallsInHalfOpenState(1)
                .automaticTransitionFromOpenToHalfOpenEnabled(true)
                .build();
        this.breaker = CircuitBreaker.of("agent", config);
    }

    CircuitBreaker circuitBreaker() {
        return breaker;
    }

    /** Calls the listener on every state change, after logging it. */
    void onTransition(Consumer<CircuitBreaker.State> listener) {
        breaker.getEventPublisher().onStateTransition((CircuitBreakerOnStateTransitionEvent e) -> {
            CircuitBreaker.State to = e.getStateTransition().getToState();
            if (to == CircuitBreaker.State.OPEN || to == CircuitBreaker.State.FORCED_OPEN) {
                if (openUntil == null || openUntil.isBefore(Instant.now())) {
                    openUntil = Instant.now().plus(openFor);
                }
                LOG.warn("circuit breaker OPEN until {}: {}; intake paused, jobs parked", openUntil, reason);
            } else if (to == CircuitBreaker.State.HALF_OPEN) {
                LOG.info("circuit breaker HALF_OPEN: one job probes the agent");
            } else if (to == CircuitBreaker.State.CLOSED) {
                openUntil = null;
                reason = "too many failed agent calls";
                LOG.info("circuit breaker CLOSED: work resumes");
            }
            listener.accept(to);
        });
    }

    /** Opens the breaker now, until the given time when known, else for sandflow.breaker.open-for. */
    void openUntil(Instant until, String why) {
        this.reason = why;
        Instant end = until != null && until.isAfter(Instant.now()) ? until : Instant.now().plus(openFor);
        this.openUntil = end;
        CircuitBreaker.State state = breaker.getState();
        if (state == CircuitBreaker.State.OPEN || state == CircuitBreaker.State.FORCED_OPEN) {
            return;
        }
        breaker.transitionToOpenStateUntil(end);
    }

    String reason() {
        return reason;
    }

    Instant openUntil() {
        return openUntil;
    }

    CircuitBreaker.State state() {
        return breaker.getState();
    }
}
