package io.sandflow.flow;

import io.sandflow.config.SandflowConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.sandflow.job.FailureClass;
import io.sandflow.job.FailureScope;
import io.sandflow.job.JobFailure;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** What counts toward the circuit breaker: the service's failures, over distinct jobs; never an input's own. */
class BreakerTest {

    @TempDir
    Path dir;

    private Breaker breaker() {
        return new Breaker(new SandflowConfig.Breaker(50, 10, 4, Duration.ofMinutes(1)));
    }

    private static JobFailure service() {
        return new JobFailure(FailureClass.TRANSIENT, "the API failed with 429", null, FailureScope.SERVICE, null);
    }

    private static JobFailure input() {
        return new JobFailure(FailureClass.TRANSIENT, "the agent timed out", null, FailureScope.INPUT, null);
    }

    /** One agent call through the breaker, as the route makes it, failing with what the classifier threw. */
    private static void failedCall(Breaker b, long jobId, JobFailure failure) {
        try {
            b.circuitBreaker().executeRunnable(() -> {
                throw b.judge(jobId, failure);
            });
        } catch (JobFailure expected) {
            // the route's decide-retry step gets it
        }
    }

    private static void answeredCall(Breaker b, long jobId) {
        b.circuitBreaker().executeRunnable(() -> b.answered(jobId));
    }

    @Test
    void oneJobFailingAgainAndAgainNeverOpensIt() {
        Breaker b = breaker();

        for (int i = 0; i < 20; i++) {
            failedCall(b, 7, service());
        }

        assertThat(b.state()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(b.circuitBreaker().getMetrics().getNumberOfFailedCalls()).isEqualTo(1);
    }

    @Test
    void serviceFailuresOfMinCallsDistinctJobsOpenIt() {
        Breaker b = breaker();

        for (long job = 1; job <= 3; job++) {
            failedCall(b, job, service());
            failedCall(b, job, service());
        }
        assertThat(b.state()).as("three distinct jobs").isEqualTo(CircuitBreaker.State.CLOSED);
        failedCall(b, 4, service());

        assertThat(b.state()).isEqualTo(CircuitBreaker.State.OPEN);
    }

    @Test
    void anInputsOwnFailuresNeverCount() {
        Breaker b = breaker();

        for (long job = 1; job <= 10; job++) {
            failedCall(b, job, input());
        }

        assertThat(b.state()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(b.circuitBreaker().getMetrics().getNumberOfBufferedCalls()).as("neither failures nor successes")
                .isZero();
    }

    @Test
    void aProbeFailingForItsInputLeavesItHalfOpenForTheNextProbe() {
        Breaker b = breaker();
        b.openUntil(null, "the API failed with 429");
        b.circuitBreaker().transitionToHalfOpenState();

        failedCall(b, 1, input());
        assertThat(b.state()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
        assertThat(b.circuitBreaker().tryAcquirePermission()).as("another probe may go").isTrue();
        b.circuitBreaker().releasePermission();

        failedCall(b, 2, service());
        assertThat(b.state()).as("a probe failing for the service").isEqualTo(CircuitBreaker.State.OPEN);

        b.circuitBreaker().transitionToHalfOpenState();
        answeredCall(b, 3);
        assertThat(b.state()).isEqualTo(CircuitBreaker.State.CLOSED);
    }
}
