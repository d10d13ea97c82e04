package io.sandflow.flow;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Whether new jobs may start and, when not, why. Each cause (the circuit breaker, the store, a folder) holds intake
 * closed until it lets go; intake runs only while no cause holds it. The intake route's {@link IntakePolicy}
 * suspends the inbox poller while the gate admits nothing, and a job already queued when it closes is turned away
 * before its claim, its file left in the inbox untouched.
 *
 * <p>A cause may instead let one job at a time through ({@link #probe}: a half-open circuit breaker's probe). The
 * inbox filter then offers one file per poll ({@link #offer}), the first job to ask becomes the probe
 * ({@link #admit}) and the others are turned away until it ends ({@link #finished}). Each probe is another input:
 * an input that probed is passed over until every waiting input has had its turn, or until intake opens fully.
 */
public final class IntakeGate {

    private static final Logger LOG = LoggerFactory.getLogger("sandflow.intake");

    /** One cause holding intake closed, with why and since when. */
    public record Hold(String cause, String reason, Instant since) {
    }

    private final Map<String, Hold> holds = new LinkedHashMap<>();
    /** Causes whose hold lets one job at a time through. */
    private final Set<String> probing = new HashSet<>();
    /** Causes that log their own changes (the breaker logs its states), so the gate does not log them twice. */
    private final Set<String> selfLogging = new HashSet<>();
    /** The inbox file whose job probes now, or null. */
    private String probe;
    /** Files that probed since intake last opened fully: each waits until the others have had their turn. */
    private final Set<String> probed = new HashSet<>();
    private boolean offeredThisPoll;
    private boolean passedOverThisPoll;
    private final List<Runnable> admissionListeners = new CopyOnWriteArrayList<>();

    /**
     * Closes intake for this cause (or updates its reason). Logged once per change, not once per call, so a cause
     * that keeps failing does not fill the log.
     */
    public void hold(String cause, String reason) {
        set(cause, reason, false);
    }

    /**
     * Holds intake for this cause but lets one job at a time through, each a different input: a half-open
     * breaker's probe. A later {@link #hold} or {@link #release} of the cause ends it.
     */
    public void probe(String cause, String reason) {
        set(cause, reason, true);
    }

    private void set(String cause, String reason, boolean oneAtATime) {
        boolean closedNow;
        boolean admissionChanged;
        synchronized (holds) {
            Hold before = holds.get(cause);
            if (before != null && before.reason().equals(reason) && probing.contains(cause) == oneAtATime) {
                return;
            }
            boolean admittedBefore = admitting();
            closedNow = holds.isEmpty();
            holds.put(cause, new Hold(cause, reason, before == null ? Instant.now() : before.since()));
            if (oneAtATime && probing.add(cause)) {
                // A new probing period starts with a free slot; a probe of the last one still running ends alone
                probe = null;
            } else if (!oneAtATime) {
                probing.remove(cause);
            }
            admissionChanged = admittedBefore != admitting();
        }
        if (!selfLogging.contains(cause)) {
            if (oneAtATime) {
                LOG.info("intake lets one job at a time through ({}): {}", cause, reason);
            } else {
                LOG.warn("intake paused ({}): {}", cause, reason);
            }
        }
        if (admissionChanged || closedNow) {
            notifyAdmission();
        }
    }

    /** Lets go of this cause's hold; intake resumes when no other cause holds it. */
    public void release(String cause) {
        boolean openNow;
        synchronized (holds) {
            if (holds.remove(cause) == null) {
                return;
            }
            probing.remove(cause);
            openNow = holds.isEmpty();
            if (openNow) {
                probe = null;
                probed.clear();
            }
        }
        if (!selfLogging.contains(cause)) {
            LOG.info("{} no longer holds intake{}", cause, openNow ? "; intake resumes" : "");
        }
        notifyAdmission();
    }

    /** This cause logs its own changes; the gate does not log its holds and releases again. */
    public void selfLogging(String cause) {
        selfLogging.add(cause);
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

    /** Whether a new job may start now: intake is open, or every hold lets one through and none is out. */
    public boolean admitsNow() {
        synchronized (holds) {
            return admitting();
        }
    }

    private boolean admitting() {
        return holds.isEmpty() || (probing.containsAll(holds.keySet()) && probe == null);
    }

    /**
     * The inbox filter's question for each file a poll lists, in name order: may it be handed to a worker? While
     * one job at a time may probe, one file per poll is, and only one that has not probed yet in this round.
     */
    public boolean offer(String name) {
        synchronized (holds) {
            if (holds.isEmpty()) {
                return true;
            }
            if (!admitting() || offeredThisPoll) {
                return false;
            }
            if (probed.contains(name)) {
                passedOverThisPoll = true;
                return false;
            }
            offeredThisPoll = true;
            return true;
        }
    }

    /** A poll of the inbox begins. */
    public void pollStarted() {
        synchronized (holds) {
            offeredThisPoll = false;
            passedOverThisPoll = false;
        }
    }

    /** A poll of the inbox ended: when it offered nothing because every file had probed, a new round begins. */
    public void pollEnded() {
        synchronized (holds) {
            if (!offeredThisPoll && passedOverThisPoll && admitting()) {
                probed.clear();
            }
        }
    }

    /**
     * A job asks to start, before it claims anything: yes while intake is open; while one job at a time may probe,
     * yes for the first to ask, which is the probe until {@link #finished}; no otherwise (it leaves its file alone).
     */
    public boolean admit(String name) {
        synchronized (holds) {
            if (holds.isEmpty()) {
                return true;
            }
            if (!admitting()) {
                return false;
            }
            probe = name;
            probed.add(name);
        }
        notifyAdmission();
        return true;
    }

    /** The job of this file ended, however; when it was the probe, the next job may probe. */
    public void finished(String name) {
        synchronized (holds) {
            if (probe == null || !probe.equals(name)) {
                return;
            }
            probe = null;
        }
        notifyAdmission();
    }

    /** The holds now, oldest first. */
    public List<Hold> holds() {
        synchronized (holds) {
            return new ArrayList<>(holds.values());
        }
    }

    /** Runs the listener whenever {@link #admitsNow()} may have changed, on the changing thread. */
    public void onAdmissionChange(Runnable listener) {
        admissionListeners.add(listener);
    }

    private void notifyAdmission() {
        for (Runnable listener : admissionListeners) {
            try {
                listener.run();
            } catch (RuntimeException e) {
                LOG.warn("cannot follow the intake gate: {}", e.toString());
            }
        }
    }
}
