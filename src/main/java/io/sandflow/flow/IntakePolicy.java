package io.sandflow.flow;

import org.apache.camel.Route;
import org.apache.camel.support.RoutePolicySupport;

import java.util.concurrent.Executor;

/**
 * The intake route's policy (bean {@code intakePolicy}): suspends the inbox poller while the {@link IntakeGate}
 * admits no new job (closed, or its one probe is out) and resumes it when the gate admits one again. Only the
 * poller stops: jobs already running finish, and the route itself is never suspended, which would wait for them.
 */
final class IntakePolicy extends RoutePolicySupport {

    private final IntakeGate gate;
    /** Where the consumer is suspended or resumed: never on the thread that changed the gate, which may be a job's. */
    private final Executor control;
    private volatile Route route;

    IntakePolicy(IntakeGate gate, Executor control) {
        this.gate = gate;
        this.control = control;
    }

    @Override
    public void onInit(Route route) {
        super.onInit(route);
        this.route = route;
        gate.onAdmissionChange(() -> control.execute(this::follow));
    }

    @Override
    public void onStart(Route route) {
        if (!gate.admitsNow()) {
            control.execute(this::follow);
        }
    }

    /** Brings the poller in line with the gate as it is now, which may have changed again since this was queued. */
    private void follow() {
        Route r = route;
        if (r == null || r.getConsumer() == null) {
            return;
        }
        try {
            if (gate.admitsNow()) {
                resumeOrStartConsumer(r.getConsumer());
            } else {
                suspendOrStopConsumer(r.getConsumer());
            }
        } catch (Exception e) {
            handleException(e);
        }
    }
}
