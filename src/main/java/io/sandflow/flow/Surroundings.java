package io.sandflow.flow;

import io.sandflow.config.SandflowConfig;
import io.sandflow.job.Durations;
import io.sandflow.process.ProcessRunner;
import io.sandflow.store.JobStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

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

    /** A store that does not answer a readiness probe in this time counts as unreachable. */
    private static final Duration STORE_TIMEOUT = Duration.ofSeconds(2);

    private final SandflowConfig config;
    private final Supplier<JobStore> store;
    private final IntakeGate gate;
    /** Each folder a job writes to, by the setting that names it. */
    private final Map<String, Path> folders;
    private final long minFreeBytes;

    Surroundings(SandflowConfig config, Supplier<JobStore> store, IntakeGate gate) {
        this.config = config;
        this.store = store;
        this.gate = gate;
        this.folders = config.folders().written();
        this.minFreeBytes = config.folders().minFreeBytes();
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
                    store.get().probe();
                    gate.release(STORE);
                } catch (RuntimeException e) {
                    LOG.debug("the job store still fails: {}", e.toString());
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
        } catch (VirtualMachineError e) {
            throw e;
        } catch (RuntimeException | Error e) {
            // A scheduled task that throws is never run again, and a database's own assertion errors must not end
            // the re-checks that reopen it: keep re-checking
            LOG.warn("cannot re-check the store and folders: {}", e.toString());
        }
    }

    /**
     * What keeps Sandflow from doing its work now, one sentence each, for the readiness check: every cause that holds
     * intake but the breaker (a detail: the daemon resumes by itself), a store that does not answer, a program a run
     * needs that is missing, a folder that cannot take a job's files.
     *
     * @param probes where the store is read, so that a store that hangs cannot hold up the health endpoint
     */
    List<String> readinessProblems(ExecutorService probes) {
        List<String> problems = new ArrayList<>();
        for (IntakeGate.Hold hold : gate.holds()) {
            if (!hold.cause().equals(Breaker.CAUSE)) {
                problems.add(hold.reason());
            }
        }
        if (!gate.isHeldBy(STORE)) {
            storeProblem(probes).ifPresent(problems::add);
        }
        config.hostPrograms().forEach((program, setting) -> {
            if (ProcessRunner.locate(program).isEmpty()) {
                problems.add(setting + ": cannot find the program '" + program + "'");
            }
        });
        if (!gate.isHeldBy(FOLDER)) {
            folderProblem().ifPresent(problems::add);
        }
        return problems;
    }

    private Optional<String> storeProblem(ExecutorService probes) {
        CompletableFuture<Object> read = CompletableFuture.supplyAsync(() -> store.get().getState("breaker"), probes);
        try {
            read.get(STORE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return Optional.empty();
        } catch (java.util.concurrent.TimeoutException e) {
            read.cancel(true);
            return Optional.of("the job store does not answer within " + Durations.human(STORE_TIMEOUT));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("interrupted while reading the job store");
        } catch (java.util.concurrent.ExecutionException e) {
            return Optional.of("the job store cannot be read: " + e.getCause().getMessage());
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
