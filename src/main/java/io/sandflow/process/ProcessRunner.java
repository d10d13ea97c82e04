package io.sandflow.process;

import java.io.File;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Runs one child process to completion with bounded memory and guarantees that neither the child nor anything
 * it spawned outlives the call. A child is found by three marks: its process group (its own session), being a
 * descendant seen while it ran, and, on Linux, a per-run token in its environment ({@value #MARK}), which a process
 * keeps through double forks and new sessions. Only a process that clears or rewrites its own environment and
 * leaves the group and the tree escapes all three; a sandbox with its own PID namespace (srt) catches that one too.
 *
 * <p>Over 400 lines because a run and its clean-up are one sequence (start, pump, time out, kill by group, tree and
 * token, reap): the order of those steps is what guarantees that nothing outlives the call.
 */
public final class ProcessRunner {

    private static final System.Logger LOG = System.getLogger(ProcessRunner.class.getName());

    /** The environment variable holding each run's token, inherited by everything the child starts. */
    public static final String MARK = "SANDFLOW_PROCESS_MARK";

    static final Duration DEFAULT_KILL_GRACE = Duration.ofSeconds(2);
    static final Duration DEFAULT_DRAIN_WAIT = Duration.ofSeconds(2);

    /** Often enough to see short-lived intermediate children, rarely enough to cost nothing measurable. */
    private static final long DESCENDANT_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    private static final long GONE_POLL_MILLIS = 10;
    private static final String DEFAULT_EXEC_PATH = "/bin:/usr/bin";
    /**
     * A run shorter than this counts as "just started" for the group and token scans, which then read only pids from
     * the child's up (see {@link ProcessTree#groupMembers(long, boolean)}). The pid counter comes back round to the
     * child's pid only after pid_max more processes; at 1,000 a second, several times what a fork-heavy build starts,
     * that takes pid_max / 1000 seconds (32 s at the smallest default). Runs shorter than that, at least 1 s and
     * at most 10 min, scan the pids above the child's; longer runs read every process, and so does a run during
     * which the counter was seen below the child's pid (an agent that forks on purpose to wrap it round).
     */
    private static final long SHORT_RUN_NANOS = TimeUnit.MILLISECONDS.toNanos(
            Math.max(1_000, Math.min(TimeUnit.MINUTES.toMillis(10), ProcessTree.pidMax())));

    private final Path setsid;
    private final Path killCommand;
    private final boolean procfs;
    private final Duration killGrace;
    private final Duration drainWait;
    private final java.util.Map<Long, Process> live = new java.util.concurrent.ConcurrentHashMap<>();

    /** Uses setsid and kill from the system when present, a 2 s SIGTERM grace and a 2 s wait for the readers. */
    public ProcessRunner() {
        this(firstExecutable("/usr/bin/setsid", "/bin/setsid"), DEFAULT_KILL_GRACE, DEFAULT_DRAIN_WAIT);
    }

    /**
     * @param setsid    the setsid(1) binary, or null to run without a process group (descendants only)
     * @param killGrace how long a timed-out tree gets between SIGTERM and SIGKILL
     * @param drainWait how long to wait for the stream threads once every process is dead
     */
    ProcessRunner(Path setsid, Duration killGrace, Duration drainWait) {
        this.setsid = setsid;
        this.killCommand = firstExecutable("/bin/kill", "/usr/bin/kill");
        this.procfs = ProcessTree.procAvailable();
        this.killGrace = Objects.requireNonNull(killGrace, "killGrace");
        this.drainWait = Objects.requireNonNull(drainWait, "drainWait");
    }

    /** Whether children get their own process group, so orphaned grandchildren can be found and killed. */
    public boolean usesProcessGroups() {
        return setsid != null;
    }

    /**
     * Runs the child described by {@code spec} and returns once it and every process it started are dead.
     * A non-zero exit or a timeout is reported in the outcome, not thrown.
     *
     * @throws IOException            when the executable cannot be found or the process cannot be started
     * @throws InterruptedIOException when the calling thread is interrupted; the process tree is killed first
     */
    public ProcessOutcome run(ProcessSpec spec) throws IOException {
        return run(spec, started -> { });
    }

    /**
     * Like {@link #run(ProcessSpec)}, and tells {@code onStart} the child's handle as soon as it runs, so that a
     * caller can record it (to kill an orphaned tree after a crash of this JVM).
     */
    public ProcessOutcome run(ProcessSpec spec, java.util.function.Consumer<ProcessHandle> onStart) throws IOException {
        Objects.requireNonNull(spec, "spec");
        long started = System.nanoTime();
        String executable = spec.argv().get(0);

        ProcessBuilder builder = new ProcessBuilder();
        applyEnvironment(builder.environment(), spec.environment());
        String mark = java.util.UUID.randomUUID().toString();
        builder.environment().put(MARK, mark);
        if (spec.workingDir() != null) {
            builder.directory(spec.workingDir().toFile());
        }
        // Resolved here because under setsid a missing program is only an exit status 127, not an exception.
        Path resolved = resolveExecutable(executable, builder.environment().get("PATH"), spec.workingDir());
        builder.command(commandLine(resolved, spec.argv()));

        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new IOException("Cannot run \"" + executable + "\"" + (spec.workingDir() == null ? ""
                    : " in " + spec.workingDir()) + ": " + e.getMessage(), e);
        }
        long pid = process.pid();
        live.put(pid, process);
        try {
            onStart.accept(process.toHandle());
            return supervise(spec, process, started, executable, mark);
        } finally {
            live.remove(pid);
        }
    }

    /**
     * Kills every process tree this runner is running now (shutdown after the grace period). Each call to
     * {@link #run} then returns with the tree dead.
     */
    public int killAll() {
        int n = 0;
        for (Process process : live.values()) {
            if (setsid != null) {
                ProcessTree.signalGroup(killCommand, process.pid(), "KILL");
            }
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            n++;
        }
        return n;
    }

    /** How many children run now. */
    public int running() {
        return live.size();
    }

    /**
     * Kills a tree left behind by an earlier JVM (kill -9), identified by the pid and start time it recorded;
     * a pid reused by an unrelated process (another start time) is left alone.
     *
     * @return whether a live tree was found and killed
     */
    public boolean killOrphan(long pid, java.time.Instant startedAt) {
        java.util.Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        if (handle.isEmpty() || !ProcessTree.isRunning(handle.get())) {
            return false;
        }
        java.util.Optional<java.time.Instant> actual = handle.get().info().startInstant();
        if (actual.isEmpty() || Math.abs(actual.get().toEpochMilli() - startedAt.toEpochMilli()) > 1000) {
            return false;
        }
        handle.get().descendants().forEach(ProcessHandle::destroyForcibly);
        if (setsid != null) {
            ProcessTree.signalGroup(killCommand, pid, "KILL");
        }
        handle.get().destroyForcibly();
        return true;
    }

    private ProcessOutcome supervise(ProcessSpec spec, Process process, long started, String executable, String mark)
            throws IOException {
        long pid = process.pid();

        StreamCapture out = new StreamCapture(spec.maxStdoutBytes(), spec.tailBytes());
        StreamCapture err = new StreamCapture(0, spec.tailBytes());
        List<Thread> pumps = new ArrayList<>(3);
        pumps.add(startDaemon("sandflow-proc-out-" + pid, () -> out.drain(process.getInputStream())));
        pumps.add(startDaemon("sandflow-proc-err-" + pid, () -> err.drain(process.getErrorStream())));
        byte[] stdin = spec.stdinBytes();
        if (stdin.length == 0) {
            closeQuietly(process.getOutputStream());
        } else {
            // Its own thread: a child that never reads stdin would otherwise block us on a full pipe forever.
            pumps.add(startDaemon("sandflow-proc-in-" + pid, () -> feed(process.getOutputStream(), stdin)));
        }

        Map<Long, ProcessHandle> seen = new HashMap<>();
        // Whether the pid counter was seen below the child's while it ran: then pids below it may be its own too
        boolean[] wrapped = {false};
        Set<Long> killed = new HashSet<>();
        boolean timedOut = false;
        boolean interrupted = false;
        try {
            timedOut = !awaitExit(process, deadline(started, spec.timeout()), seen, wrapped);
            if (timedOut) {
                terminate(process, seen, killed);
            }
        } catch (InterruptedException e) {
            interrupted = true;
        } finally {
            if (process.isAlive()) {
                // Snapshot first: once the main child is dead its children are orphans, invisible to descendants().
                remember(process.descendants().toList(), seen);
                process.destroyForcibly();
            }
            interrupted |= killLeftovers(process, seen, killed, started, wrapped[0], mark);
            interrupted |= joinAll(pumps, drainWait);
        }
        int exitCode = exitCodeOf(process);
        if (interrupted) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("Interrupted while running \"" + executable
                    + "\"; its process tree was killed");
        }
        killed.remove(pid);
        return new ProcessOutcome(exitCode, timedOut, out.head(), out.truncated(), out.total(), out.tailText(),
                err.tailText(), Duration.ofNanos(System.nanoTime() - started), killed.size());
    }

    private List<String> commandLine(Path resolved, List<String> argv) {
        List<String> command = new ArrayList<>(argv.size() + 2);
        if (setsid != null) {
            // Not a group leader when forked by the JVM, so setsid(1) calls setsid(2) and execs in place:
            // the child's pid is its session and process-group id. "--" keeps odd program names from
            // being parsed as options.
            command.add(setsid.toString());
            command.add("--");
        }
        command.add(resolved.toString());
        command.addAll(argv.subList(1, argv.size()));
        return command;
    }

    private static void applyEnvironment(Map<String, String> target, Map<String, String> changes) {
        for (Map.Entry<String, String> e : changes.entrySet()) {
            if (e.getValue() == null) {
                target.remove(e.getKey());
            } else {
                target.put(e.getKey(), e.getValue());
            }
        }
    }

    /**
     * Polls so that descendants seen while the child runs can be killed later even if they leave the group, and
     * watches the pid counter: once it has come back below the child's pid, {@code wrapped[0]} is set.
     */
    private static boolean awaitExit(Process process, long deadline, Map<Long, ProcessHandle> seen, boolean[] wrapped)
            throws InterruptedException {
        while (true) {
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                return false;
            }
            if (process.waitFor(Math.min(remaining, DESCENDANT_POLL_NANOS), TimeUnit.NANOSECONDS)) {
                return true;
            }
            remember(process.descendants().toList(), seen);
            long last = ProcessTree.lastPid();
            if (last >= 0 && last < process.pid()) {
                wrapped[0] = true;
            }
        }
    }

    private static long deadline(long started, Duration timeout) {
        long nanos;
        try {
            nanos = timeout.toNanos();
        } catch (ArithmeticException tooLong) {
            nanos = Long.MAX_VALUE / 4;
        }
        return started + Math.min(nanos, Long.MAX_VALUE / 4);
    }

    /** SIGTERM to the whole tree, a grace period for the agent to flush and exit, then the caller's SIGKILL. */
    private void terminate(Process process, Map<Long, ProcessHandle> seen, Set<Long> killed)
            throws InterruptedException {
        remember(process.descendants().toList(), seen);
        Map<Long, ProcessHandle> alive = liveTree(process, seen);
        if (setsid != null) {
            ProcessTree.signalGroup(killCommand, process.pid(), "TERM");
        }
        process.destroy();
        alive.values().forEach(ProcessHandle::destroy);
        killed.addAll(alive.keySet());

        long graceEnd = System.nanoTime() + killGrace.toNanos();
        while (System.nanoTime() < graceEnd) {
            if (!process.isAlive() && liveTree(process, seen).isEmpty()) {
                return;
            }
            Thread.sleep(GONE_POLL_MILLIS);
        }
        LOG.log(System.Logger.Level.DEBUG, "pid {0} outlived SIGTERM grace, sending SIGKILL", process.pid());
    }

    /**
     * SIGKILLs every process still in the child's group or seen as its descendant, repeating a few rounds because
     * a dying shell can fork once more between our scan and the signal.
     *
     * @param wrapped whether the pid counter went below the child's pid while it ran (then every pid is read)
     * @return whether the thread was interrupted meanwhile (the flag is cleared so that cleanup can finish)
     */
    private boolean killLeftovers(Process process, Map<Long, ProcessHandle> seen, Set<Long> killed, long started,
                                  boolean wrapped, String mark) {
        boolean interrupted = false;
        for (int round = 0; round < 5; round++) {
            if (process.isAlive()) {
                remember(process.descendants().toList(), seen);
            }
            boolean justStarted = !wrapped && System.nanoTime() - started < SHORT_RUN_NANOS;
            Map<Long, ProcessHandle> alive = liveTree(process, seen, justStarted);
            if (procfs) {
                // Detached into a session of its own and orphaned before any look: only the token still finds it
                for (long pid : ProcessTree.marked(MARK + "=" + mark, process.pid(), justStarted)) {
                    ProcessHandle.of(pid).ifPresent(h -> alive.put(pid, h));
                }
                alive.remove(process.pid());
                alive.remove(ProcessHandle.current().pid());
            }
            if (alive.isEmpty() && !process.isAlive()) {
                if (round == 0 && setsid != null && !procfs) {
                    // No /proc to look into the group: signal it blindly once.
                    ProcessTree.signalGroup(killCommand, process.pid(), "KILL");
                }
                break;
            }
            if (setsid != null) {
                ProcessTree.signalGroup(killCommand, process.pid(), "KILL");
            }
            process.destroyForcibly();
            alive.values().forEach(ProcessHandle::destroyForcibly);
            killed.addAll(alive.keySet());
            LOG.log(System.Logger.Level.DEBUG, "killed leftover processes {0} of pid {1}", alive.keySet(),
                    process.pid());
            interrupted |= awaitGone(alive.values(), 1000);
        }
        return interrupted | Thread.interrupted();
    }

    /** Every running process of the tree except the main child, keyed by pid. */
    private Map<Long, ProcessHandle> liveTree(Process process, Map<Long, ProcessHandle> seen) {
        return liveTree(process, seen, false);
    }

    private Map<Long, ProcessHandle> liveTree(Process process, Map<Long, ProcessHandle> seen, boolean justStarted) {
        Map<Long, ProcessHandle> alive = new HashMap<>();
        if (setsid != null && procfs) {
            for (long member : ProcessTree.groupMembers(process.pid(), justStarted)) {
                ProcessHandle.of(member).ifPresent(h -> alive.put(member, h));
            }
        }
        for (ProcessHandle h : seen.values()) {
            if (ProcessTree.isRunning(h)) {
                alive.put(h.pid(), h);
            }
        }
        alive.remove(process.pid());
        alive.remove(ProcessHandle.current().pid());
        return alive;
    }

    private static void remember(List<ProcessHandle> handles, Map<Long, ProcessHandle> seen) {
        // Keep the first handle: it carries the start time that protects against pid reuse.
        handles.forEach(h -> seen.putIfAbsent(h.pid(), h));
    }

    /** @return whether the thread was interrupted while waiting (the flag is cleared so cleanup can go on) */
    private static boolean awaitGone(Iterable<ProcessHandle> handles, long maxMillis) {
        boolean interrupted = false;
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis);
        for (ProcessHandle h : handles) {
            while (ProcessTree.isRunning(h) && System.nanoTime() < end) {
                try {
                    Thread.sleep(GONE_POLL_MILLIS);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        return interrupted;
    }

    /**
     * Bounded: a process that escaped us could keep a pipe open forever; the daemon reader then simply
     * stays blocked on its bounded buffers and the outcome carries what was read so far.
     */
    private static boolean joinAll(List<Thread> threads, Duration maxWait) {
        boolean interrupted = false;
        long end = System.nanoTime() + maxWait.toNanos();
        for (Thread t : threads) {
            while (t.isAlive()) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    LOG.log(System.Logger.Level.WARNING, "{0} still busy after the process tree was killed",
                            t.getName());
                    break;
                }
                try {
                    t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        return interrupted;
    }

    private static int exitCodeOf(Process process) {
        try {
            if (process.waitFor(2, TimeUnit.SECONDS)) {
                return process.exitValue();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return -1;
    }

    private static void feed(OutputStream stdin, byte[] bytes) {
        try (stdin) {
            stdin.write(bytes);
        } catch (IOException ignored) {
            // The child closed stdin or died (broken pipe): what it did not read is simply not delivered.
        }
    }

    private static Thread startDaemon(String name, Runnable body) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    private static void closeQuietly(OutputStream stream) {
        try {
            stream.close();
        } catch (IOException ignored) {
            // Nothing was written, so there is nothing to lose.
        }
    }

    /**
     * Finds a program the way {@link #run} would, on this process's PATH, so that a missing agent or sandbox CLI
     * is reported at start-up instead of at the first job.
     */
    public static java.util.Optional<Path> locate(String executable) {
        try {
            return java.util.Optional.of(resolveExecutable(executable, System.getenv("PATH"), null));
        } catch (IOException e) {
            return java.util.Optional.empty();
        }
    }

    /**
     * Like execvp(3): a name with a slash is a path (relative to the working dir), otherwise the absolute entries of
     * PATH are searched.
     */
    static Path resolveExecutable(String executable, String pathVariable, Path workingDir) throws IOException {
        Path base = (workingDir == null ? Path.of("") : workingDir).toAbsolutePath();
        try {
            if (executable.contains("/")) {
                Path candidate = base.resolve(executable);
                if (isExecutableFile(candidate)) {
                    return candidate;
                }
                throw new IOException("Cannot run \"" + executable + "\": "
                        + (Files.exists(candidate) ? "not an executable file" : "no such file"));
            }
            String search = pathVariable == null ? DEFAULT_EXEC_PATH : pathVariable;
            for (String dir : search.split(File.pathSeparator, -1)) {
                // Not execvp here: an empty or relative entry would search the working folder, which is the agent's
                // workspace, so a program it planted there would run on the host at the next attempt
                if (dir.isEmpty() || !Path.of(dir).isAbsolute()) {
                    continue;
                }
                Path candidate = Path.of(dir).resolve(executable);
                if (isExecutableFile(candidate)) {
                    return candidate;
                }
            }
            throw new IOException("Cannot run \"" + executable + "\": not found on PATH " + search);
        } catch (InvalidPathException e) {
            throw new IOException("Cannot run \"" + executable + "\": invalid path: " + e.getMessage(), e);
        }
    }

    private static boolean isExecutableFile(Path candidate) {
        return Files.isRegularFile(candidate) && Files.isExecutable(candidate);
    }

    private static Path firstExecutable(String... candidates) {
        for (String candidate : candidates) {
            Path path = Path.of(candidate);
            if (Files.isExecutable(path)) {
                return path;
            }
        }
        return null;
    }
}
