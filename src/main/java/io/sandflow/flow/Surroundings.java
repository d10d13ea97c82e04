package io.sandflow.flow;

import io.sandflow.store.StoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The store and the folders a job needs, which are Sandflow's surroundings and never an input's fault: when one of
 * them fails, intake is held closed (causes {@code store} and {@code folder} of the {@link IntakeGate}) and the job
 * waits in the inbox; a re-check every {@code sandflow.intake.recheck} lets go once the store takes writes again and
 * every folder can be written.
 */
public final class Surroundings {

    public static final String STORE = "store";
    public static final String FOLDER = "folder";

    private static final Logger LOG = LoggerFactory.getLogger("sandflow");

    private final Engine engine;
    private final IntakeGate gate;
    /** Each folder a job writes to, by the setting that names it. */
    private final Map<String, Path> folders = new LinkedHashMap<>();
    private final long minFreeBytes;

    Surroundings(Engine engine, IntakeGate gate) {
        this.engine = engine;
        this.gate = gate;
        folders.put("sandflow.inbox", engine.inbox);
        folders.put("sandflow.outbox", engine.outbox);
        folders.put("sandflow.failed", engine.failed);
        folders.put("sandflow.archive", engine.archive);
        this.minFreeBytes = engine.minFreeBytes;
    }

    /**
     * Re-checks what holds intake on its own thread: a store that does not answer may block a call for the pool's
     * connection timeout, which must hold up neither the workers nor the control thread.
     */
    void start(ScheduledExecutorService checks, Duration every) {
        long ms = Math.max(50, every.toMillis());
        checks.scheduleWithFixedDelay(this::recheck, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** The store failed a call: intake waits for it, with its reason. */
    void storeFailed(RuntimeException e) {
        if (gate.isHeldBy(STORE)) {
            // Held already: each failing call has its own message, and one log line per outage is enough
            return;
        }
        String why = String.valueOf(e.getMessage()).replaceFirst("^Job store: ", "");
        gate.hold(STORE, "the job store failed (" + why + "); jobs wait in the inbox until it answers again");
    }

    /** A folder failed a write: intake waits until every folder can be written again. */
    void folderFailed(String problem) {
        gate.hold(FOLDER, problem + "; jobs wait in the inbox until it can be written");
    }

    /**
     * Whether every folder a job needs can be written now; when one cannot, intake is held with the reason. Called
     * before a job's agent runs, so that a run is never paid for a result that cannot be kept.
     */
    boolean foldersReady() {
        Optional<String> problem = folderProblem();
        problem.ifPresent(this::folderFailed);
        return problem.isEmpty();
    }

    /** The first folder that cannot take a job's files, in one sentence naming its setting; empty when none. */
    public Optional<String> folderProblem() {
        for (Map.Entry<String, Path> f : folders.entrySet()) {
            Path dir = f.getValue();
            if (!writable(dir)) {
                return Optional.of("cannot write to " + dir + " (" + f.getKey() + ")");
            }
            long free = usableSpace(dir);
            if (free >= 0 && free < minFreeBytes) {
                return Optional.of("cannot write to " + dir + " (" + f.getKey() + "): its file system is full, "
                        + free + " bytes free, below sandflow.folders.min-free-bytes=" + minFreeBytes);
            }
        }
        return Optional.empty();
    }

    /** One round of re-checks: each cause whose trouble has passed lets go of intake. */
    void recheck() {
        try {
            if (gate.isHeldBy(STORE)) {
                try {
                    engine.store().probe();
                    gate.release(STORE);
                } catch (StoreException e) {
                    LOG.debug("the job store still fails: {}", e.getMessage());
                }
            }
            if (gate.isHeldBy(FOLDER)) {
                Optional<String> problem = folderProblem();
                if (problem.isEmpty()) {
                    gate.release(FOLDER);
                } else {
                    folderFailed(problem.get());
                }
            }
        } catch (RuntimeException e) {
            // A scheduled task that throws is never run again: keep re-checking
            LOG.warn("cannot re-check the store and folders: {}", e.toString());
        }
    }

    /**
     * Writable for this process, and not marked read-only: root may write through a mode without write bits, but
     * an operator who removed them meant Sandflow to stop.
     */
    static boolean writable(Path dir) {
        if (!Files.isDirectory(dir) || !Files.isWritable(dir)) {
            return false;
        }
        try {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir);
            return mode.contains(PosixFilePermission.OWNER_WRITE) || mode.contains(PosixFilePermission.GROUP_WRITE)
                    || mode.contains(PosixFilePermission.OTHERS_WRITE);
        } catch (UnsupportedOperationException | IOException e) {
            return true;
        }
    }

    /** One statvfs call; -1 when the file system does not say. */
    private static long usableSpace(Path dir) {
        long free = dir.toFile().getUsableSpace();
        return free == 0 && !Files.isDirectory(dir) ? -1 : free;
    }
}
