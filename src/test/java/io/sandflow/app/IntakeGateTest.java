package io.sandflow.app;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class IntakeGateTest {

    @Test
    void intakeOpensOnlyWhenEveryCauseHasLetGo() {
        IntakeGate gate = new IntakeGate();
        List<Boolean> changes = new ArrayList<>();
        gate.onChange(changes::add);

        gate.hold("breaker", "the circuit breaker is open");
        gate.hold("store", "the job store cannot be reached");
        gate.release("breaker");

        assertThat(gate.isOpen()).isFalse();
        assertThat(gate.reason()).contains("the job store cannot be reached");

        gate.release("store");

        assertThat(gate.isOpen()).isTrue();
        assertThat(gate.reason()).isEmpty();
        assertThat(changes).containsExactly(false, true);
    }

    @Test
    void holdingAgainForTheSameReasonChangesNothing() {
        IntakeGate gate = new IntakeGate();
        List<Boolean> changes = new ArrayList<>();
        gate.onChange(changes::add);

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
        gate.onChange(changes::add);

        gate.release("breaker");

        assertThat(gate.isOpen()).isTrue();
        assertThat(changes).isEmpty();
    }
}
