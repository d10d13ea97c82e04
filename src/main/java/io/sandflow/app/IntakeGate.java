package io.sandflow.app;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Whether new jobs may start and, when not, why. Each cause (the circuit breaker, the store, a folder) holds intake
 * closed until it lets go; intake runs only while no cause holds it. The intake route's {@link IntakePolicy}
 * suspends the inbox poller while the gate is closed, and a job already queued when it closes is turned away
 * before its claim, its file left in the inbox untouched.
 */
public final class IntakeGate {

    private static final Logger LOG = LoggerFactory.getLogger("sandflow.intake");

    /** One cause holding intake closed, with why and since when. */
    public record Hold(String cause, String reason, Instant since) {
    }

    private final Map<String, Hold> holds = new LinkedHashMap<>();
    private final List<Consumer<Boolean>> listeners = new CopyOnWriteArrayList<>();

    /**
     * Closes intake for this cause (or updates its reason). Logged once per change, not once per call, so a cause
     * that keeps failing does not fill the log.
     */
    public void hold(String cause, String reason) {
        boolean closedNow;
        synchronized (holds) {
            Hold before = holds.get(cause);
            if (before != null && before.reason().equals(reason)) {
                return;
            }
            closedNow = holds.isEmpty();
            holds.put(cause, new Hold(cause, reason, before == null ? Instant.now() : before.since()));
        }
        LOG.warn("intake paused ({}): {}", cause, reason);
        if (closedNow) {
            notifyListeners(false);
        }
    }

    /** Lets go of this cause's hold; intake resumes when no other cause holds it. */
    public void release(String cause) {
        boolean openNow;
        synchronized (holds) {
            if (holds.remove(cause) == null) {
                return;
            }
            openNow = holds.isEmpty();
        }
        LOG.info("{} no longer holds intake{}", cause, openNow ? "; intake resumes" : "");
        if (openNow) {
            notifyListeners(true);
        }
    }

    public boolean isOpen() {
        synchronized (holds) {
            return holds.isEmpty();
        }
    }

    public boolean isHeldBy(String cause) {
        synchronized (holds) {
            return holds.containsKey(cause);
        }
    }

    /** The holds now, oldest first. */
    public List<Hold> holds() {
        synchronized (holds) {
            return new ArrayList<>(holds.values());
        }
    }

    /** Why intake is closed, one sentence per cause; empty while open. */
    public Optional<String> reason() {
        List<Hold> now = holds();
        if (now.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(String.join("; ", now.stream().map(Hold::reason).toList()));
    }

    /** Tells the listener {@code true} when intake opens and {@code false} when it closes, on the changing thread. */
    public void onChange(Consumer<Boolean> listener) {
        listeners.add(listener);
    }

    private void notifyListeners(boolean open) {
        for (Consumer<Boolean> listener : listeners) {
            try {
                listener.accept(open);
            } catch (RuntimeException e) {
                LOG.warn("cannot {} intake: {}", open ? "resume" : "pause", e.toString());
            }
        }
    }
}
