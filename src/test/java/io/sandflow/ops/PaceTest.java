package io.sandflow.ops;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The ETA from this run's pace, on a clock the test sets. */
class PaceTest {

    private static final Instant START = Instant.parse("2026-12-03T09:00:00Z");

    private static Instant at(double seconds) {
        return START.plusMillis(Math.round(seconds * 1000));
    }

    @Test
    void threeJobsInThirteenSecondsWithFourLeftIsAboutSeventeenSeconds() {
        Pace.Eta eta = Pace.eta(List.of(at(5), at(10), at(13)), START, at(13), 4, null);

        assertThat(eta.duration()).isEqualTo(Duration.ofSeconds(18));
    }

    @Test
    void jobsOfAPreviousRunDoNotCount() {
        Pace.Eta eta = Pace.eta(List.of(START.minusSeconds(300), START.minusSeconds(200), at(10)), START, at(10), 4,
                null);

        assertThat(eta.duration()).isEqualTo(Duration.ofSeconds(40));
    }

    @Test
    void twoJobsEndingTogetherRightAfterTheStartDoNotPromiseTheRestAtOnce() {
        Pace.Eta eta = Pace.eta(List.of(at(0.001), at(0.001)), START, at(0.002), 3, null);

        assertThat(eta.duration()).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
        assertThat(eta.text()).isNotEqualTo("0s");
    }

    @Test
    void aPauseSlowsTheEstimateDown() {
        List<Instant> finishes = List.of(at(1), at(2), at(3));

        Duration right = Pace.eta(finishes, START, at(3), 3, null).duration();
        Duration later = Pace.eta(finishes, START, at(30), 3, null).duration();

        assertThat(later).isGreaterThan(right);
    }

    @Test
    void theRecentWindowFollowsAChangeOfPace() {
        List<Instant> finishes = new ArrayList<>();
        for (int i = 1; i <= 50; i++) {
            finishes.add(at(i * 10));          // one per 10 s for 500 s
        }
        for (int i = 1; i <= 50; i++) {
            finishes.add(at(500 + i));        // then one per second
        }

        assertThat(Pace.eta(finishes, START, at(550), 60, null).duration()).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void noEstimateWhileBlockedNorBeforeAnythingFinishedAndZeroWhenNothingRemains() {
        assertThat(Pace.eta(List.of(at(5)), START, at(6), 3, "the circuit breaker is open: 429").text())
                .isEqualTo("none (the circuit breaker is open: 429)");
        assertThat(Pace.eta(List.of(), START, at(6), 3, null).text())
                .isEqualTo("none (nothing has finished yet in this run)");
        assertThat(Pace.eta(List.of(), START, at(6), 0, null).duration()).isZero();
    }

    /** With every job ended the line says so, rather than "ETA 0ms". */
    @Test
    void withNothingLeftTheEtaSaysSo() {
        Pace.Eta eta = Pace.eta(List.of(at(5)), START, at(13), 0, null);

        assertThat(eta.duration()).isZero();
        assertThat(eta.text()).isEqualTo("nothing left");
    }
}
