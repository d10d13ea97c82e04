package io.sandflow.observe;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The gauges read suppliers that only the registry holds. Micrometer keeps a gauge's object through a weak
 * reference unless told otherwise, so after a garbage collection such a gauge reads NaN: a dashboard would show
 * the breaker in no state and the node with no workers after the first minutes of a long run.
 */
class MetricsTest {

    @Test
    void gaugesStillReadAfterAGarbageCollection() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AtomicReference<CircuitBreaker.State> breaker = new AtomicReference<>(CircuitBreaker.State.OPEN);
        AtomicInteger busy = new AtomicInteger(2);
        Standing standing = new Standing(() -> null, () -> 0, Duration.ofSeconds(1));
        // Capturing lambdas: new objects that nothing but the registry refers to once watch() returns
        new Metrics(registry).watch(standing, () -> breaker.get(), () -> busy.get() + 1, () -> busy.get());

        WeakReference<Object> canary = new WeakReference<>(new Object());
        await("a full garbage collection").atMost(Duration.ofSeconds(20)).until(() -> {
            System.gc();
            return canary.get() == null;
        });

        assertThat(registry.get("sandflow.breaker.state").tag("state", "open").gauge().value()).isEqualTo(1.0);
        assertThat(registry.get("sandflow.breaker.state").tag("state", "closed").gauge().value()).isEqualTo(0.0);
        assertThat(registry.get("sandflow.workers").gauge().value()).isEqualTo(3.0);
        assertThat(registry.get("sandflow.workers.busy").gauge().value()).isEqualTo(2.0);
    }
}
