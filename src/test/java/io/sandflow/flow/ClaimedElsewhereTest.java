package io.sandflow.flow;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class ClaimedElsewhereTest {

    @Test
    void aFileAnotherNodeHoldsIsSkippedUntilItsLeaseWouldExpire() {
        ClaimedElsewhere busy = new ClaimedElsewhere(300);

        busy.remember("a.json");

        assertThat(busy.skip("a.json")).isTrue();
        assertThat(busy.skip("b.json")).isFalse();
        await().atMost(Duration.ofSeconds(5)).until(() -> !busy.skip("a.json"));
    }

    @Test
    void purgeForgetsOnlyWhatHasExpired() {
        ClaimedElsewhere shortLease = new ClaimedElsewhere(1);
        shortLease.remember("old.json");
        await().atMost(Duration.ofSeconds(5)).until(() -> !shortLease.skip("old.json"));
        ClaimedElsewhere longLease = new ClaimedElsewhere(60_000);
        longLease.remember("held.json");

        shortLease.purge();
        longLease.purge();

        assertThat(shortLease.size()).isZero();
        assertThat(longLease.size()).isEqualTo(1);
    }
}
