package io.sandflow.flow;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class IntakeGateTest {

    @Test
    void intakeOpensOnlyWhenEveryCauseHasLetGo() {
        IntakeGate gate = new IntakeGate();
        List<Boolean> changes = new ArrayList<>();
        gate.onAdmissionChange(() -> changes.add(gate.admitsNow()));

        gate.hold("breaker", "the circuit breaker is open");
        gate.hold("store", "the job store cannot be reached");
        gate.release("breaker");

        assertThat(gate.isOpen()).isFalse();
        assertThat(gate.holds()).extracting(IntakeGate.Hold::reason).containsExactly("the job store cannot be reached");

        gate.release("store");

        assertThat(gate.isOpen()).isTrue();
        assertThat(gate.holds()).isEmpty();
        assertThat(changes).containsExactly(false, false, true);
    }

    @Test
    void holdingAgainForTheSameReasonChangesNothing() {
        IntakeGate gate = new IntakeGate();
        List<Boolean> changes = new ArrayList<>();
        gate.onAdmissionChange(() -> changes.add(gate.admitsNow()));

        gate.hold("store", "down");
        var since = gate.holds().get(0).since();
        gate.hold("store", "down");
        gate.hold("store", "still down, another error");

        assertThat(changes).containsExactly(false);
        assertThat(gate.holds()).singleElement().satisfies(h -> {
            assertThat(h.reason()).isEqualTo("still down, another error");
            assertThat(h.since()).isEqualTo(since);
        });
    }

    @Test
    void releasingACauseThatHoldsNothingDoesNotOpenOrNotify() {
        IntakeGate gate = new IntakeGate();
        List<Boolean> changes = new ArrayList<>();
        gate.onAdmissionChange(() -> changes.add(gate.admitsNow()));

        gate.release("breaker");

        assertThat(gate.isOpen()).isTrue();
        assertThat(changes).isEmpty();
    }

    @Test
    void aProbingHoldLetsOneJobThroughAtATime() {
        IntakeGate gate = new IntakeGate();
        List<Boolean> admissions = new ArrayList<>();
        gate.onAdmissionChange(() -> admissions.add(gate.admitsNow()));

        gate.probe("breaker", "half-open");

        assertThat(gate.isOpen()).isFalse();
        assertThat(gate.admitsNow()).isTrue();
        assertThat(gate.admit("a.json")).isTrue();
        assertThat(gate.admit("b.json")).as("while a.json probes").isFalse();
        assertThat(gate.admitsNow()).isFalse();
        gate.finished("b.json");
        assertThat(gate.admitsNow()).as("only the probe's end frees the slot").isFalse();
        gate.finished("a.json");
        assertThat(gate.admit("b.json")).isTrue();
        assertThat(admissions).containsExactly(true, false, true, false);
    }

    @Test
    void eachProbeIsAnotherInputUntilEveryInputHasHadATurn() {
        IntakeGate gate = new IntakeGate();
        gate.probe("breaker", "half-open");
        List<String> inbox = List.of("a.json", "b.json", "c.json");

        List<String> probes = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            gate.pollStarted();
            List<String> offered = inbox.stream().filter(gate::offer).toList();
            gate.pollEnded();
            assertThat(offered).as("one file per poll").hasSizeLessThanOrEqualTo(1);
            for (String name : offered) {
                assertThat(gate.admit(name)).isTrue();
                probes.add(name);
                gate.finished(name);
            }
        }

        // a poll that finds every file has probed offers none and starts a new round
        assertThat(probes).containsExactly("a.json", "b.json", "c.json", "a.json", "b.json", "c.json");
    }

    @Test
    void aFullHoldAdmitsNothingAndOnlyTheLastReleaseOpensIntake() {
        IntakeGate gate = new IntakeGate();
        gate.probe("breaker", "half-open");
        gate.hold("store", "the job store cannot be reached");

        gate.pollStarted();
        assertThat(gate.offer("a.json")).isFalse();
        assertThat(gate.admit("a.json")).isFalse();

        gate.release("store");
        assertThat(gate.admitsNow()).as("the breaker still probes").isTrue();
        gate.hold("breaker", "open again");
        assertThat(gate.admitsNow()).isFalse();
        gate.release("breaker");

        gate.pollStarted();
        assertThat(List.of("a.json", "b.json")).allMatch(gate::offer);
        assertThat(gate.admit("a.json")).isTrue();
        assertThat(gate.admit("b.json")).isTrue();
    }
}
