package io.sandflow.job;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RetryPolicyTest {

    private static RetryPolicy policy(double jitter) {
        return new RetryPolicy(5, 3, Duration.ofSeconds(2), Duration.ofMinutes(2), 2.0, jitter);
    }

    @Test
    void withoutJitterEachFailureDoublesTheWaitUpToTheCap() {
        RetryPolicy p = policy(0);

        assertThat(p.backoff(1)).isEqualTo(Duration.ofSeconds(2));
        assertThat(p.backoff(2)).isEqualTo(Duration.ofSeconds(4));
        assertThat(p.backoff(4)).isEqualTo(Duration.ofSeconds(16));
        assertThat(p.backoff(20)).as("capped").isEqualTo(Duration.ofMinutes(2));
    }

    @Test
    void jitterSpreadsEachWaitAroundItsValueAndNeverPastTheCap() {
        RetryPolicy p = policy(0.2);

        for (int i = 0; i < 200; i++) {
            assertThat(p.backoff(3).toMillis()).isBetween(6400L, 9600L);
            assertThat(p.backoff(30)).isLessThanOrEqualTo(Duration.ofMinutes(2));
        }
    }

    @Test
    void aBackoffMaxShorterThanTheFirstWaitIsRefusedNamingTheSetting() {
        assertThatThrownBy(() -> new RetryPolicy(5, 3, Duration.ofSeconds(2), Duration.ofSeconds(1), 2.0, 0.2))
                .hasMessageContaining("sandflow.retry.backoff.max");
    }
}
