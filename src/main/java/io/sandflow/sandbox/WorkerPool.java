package io.sandflow.sandbox;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;

/**
 * The workers' workspaces (and so their sandboxes). A job leases one for its whole life and gives it back;
 * no two jobs ever hold the same workspace at once. A sandbox that fails {@code maxFailures} times in a row is
 * retired: never leased again, and reported; the others go on.
 */
public final class WorkerPool {

    public static final int DEFAULT_MAX_FAILURES = 3;
    private static final Logger LOG = LoggerFactory.getLogger("sandflow.sandbox");
    /** What the sandbox CLIs accept as a name; a leading dash would be read as an option. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");

    private final List<Workspace> all;
    private final int maxFailures;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Deque<Workspace> free;
    private final Map<Integer, Integer> consecutiveFailures = new HashMap<>();
    private final Map<Integer, String> retired = new LinkedHashMap<>();
    private final Set<Integer> leased = new HashSet<>();

    public WorkerPool(Path root, List<String> sandboxNames) throws IOException {
        this(root, sandboxNames, DEFAULT_MAX_FAILURES);
    }

    /**
     * @param root         the folder holding {@code worker-N/}
     * @param sandboxNames one sandbox per worker
     * @param maxFailures  consecutive sandbox-level failures that retire a sandbox (sandflow.sandbox.max-failures)
     */
    public WorkerPool(Path root, List<String> sandboxNames, int maxFailures) throws IOException {
        if (sandboxNames.isEmpty()) {
            throw new IllegalArgumentException("a worker pool needs at least one worker");
        }
        if (maxFailures < 1) {
            throw new IllegalArgumentException("sandflow.sandbox.max-failures must be at least 1, got " + maxFailures);
        }
        List<Workspace> spaces = new ArrayList<>();
        for (int i = 0; i < sandboxNames.size(); i++) {
            Workspace ws = new Workspace(i + 1, sandboxNames.get(i), root.resolve("worker-" + (i + 1)));
            ws.create();
            spaces.add(ws);
        }
        this.all = List.copyOf(spaces);
        this.maxFailures = maxFailures;
        this.free = new ArrayDeque<>(spaces);
    }

    /**
     * The sandbox names for a pool: the configured list when there is one (then at most {@code workers} of it),
     * else {@code PREFIX1..PREFIXworkers}.
     *
     * @throws IllegalArgumentException naming the setting when a name is unusable or repeated
     */
    public static List<String> sandboxNames(int workers, List<String> configured, String prefix) {
        List<String> names = new ArrayList<>();
        if (configured.isEmpty()) {
            for (int i = 1; i <= workers; i++) {
                names.add(prefix + i);
            }
        } else {
            names.addAll(configured.subList(0, Math.min(workers, configured.size())));
        }
        Set<String> seen = new HashSet<>();
        for (String name : names) {
            if (!NAME.matcher(name).matches()) {
                throw new IllegalArgumentException((configured.isEmpty() ? "sandflow.sandbox.name-prefix"
                        : "sandflow.sandbox.names") + " gives the sandbox name '" + name + "'; use letters, digits, "
                        + "'.', '_' or '-', starting with a letter or digit");
            }
            if (!seen.add(name)) {
                throw new IllegalArgumentException("sandflow.sandbox.names lists '" + name + "' twice; two workers "
                        + "must never share a sandbox");
            }
        }
        return names;
    }

    /**
     * Lets the sandbox prepare every workspace and retires those it could not.
     *
     * @return the retired sandboxes' names with the reason, empty when all are ready
     * @throws SandboxException with one sentence when no sandbox at all is usable
     */
    public Map<String, String> prepare(Sandbox sandbox) {
        Map<Workspace, String> unusable = sandbox.prepare(all);
        unusable.forEach(this::retire);
        if (retired().size() == all.size()) {
            throw new SandboxException("no " + sandbox.kind() + " sandbox is usable, so no agent can run; "
                    + "the first problem: " + unusable.values().iterator().next());
        }
        return retired();
    }

    /**
     * Reads a file an agent wrote in its workspace, as {@link Workspace#readAgentFile} does.
     *
     * @throws RefusedFileException when no workspace holds {@code file}, or the workspace refuses it
     */
    public java.util.Optional<byte[]> readAgentFile(Path file, long maxBytes) throws IOException {
        Path f = file.toAbsolutePath().normalize();
        for (Workspace ws : all) {
            if (f.startsWith(ws.root().toAbsolutePath().normalize())) {
                return ws.readAgentFile(f, maxBytes);
            }
        }
        throw new RefusedFileException("lies outside every workspace");
    }

    public List<Workspace> all() {
        return all;
    }

    public int size() {
        return all.size();
    }

    /** The workspaces that may still be leased. */
    public int active() {
        lock.lock();
        try {
            return all.size() - retired.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits for a free workspace.
     *
     * @throws NoSandboxLeftException when every sandbox is retired, at once or while waiting
     */
    public Workspace lease() throws InterruptedException {
        lock.lockInterruptibly();
        try {
            while (true) {
                if (retired.size() == all.size()) {
                    throw new NoSandboxLeftException("every sandbox has been retired after repeated failures ("
                            + String.join("; ", retired.values()) + "); repair them and restart Sandflow");
                }
                Workspace ws = free.pollFirst();
                if (ws != null) {
                    leased.add(ws.index());
                    return ws;
                }
                changed.await();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Gives a workspace back; a retired one is kept out of the pool. */
    public void release(Workspace ws) {
        lock.lock();
        try {
            if (!leased.remove(ws.index())) {
                return;
            }
            if (!retired.containsKey(ws.index())) {
                free.addLast(ws);
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The sandbox ran a job's agent: its run of failures is over. */
    public void recordSuccess(Workspace ws) {
        lock.lock();
        try {
            consecutiveFailures.remove(ws.index());
        } finally {
            lock.unlock();
        }
    }

    /**
     * The sandbox itself failed (not the agent). After {@code maxFailures} in a row it is retired.
     *
     * @return true when this failure retired the sandbox
     */
    public boolean recordSandboxFailure(Workspace ws, String reason) {
        lock.lock();
        try {
            if (retired.containsKey(ws.index())) {
                return false;
            }
            int failures = consecutiveFailures.merge(ws.index(), 1, Integer::sum);
            if (failures < maxFailures) {
                LOG.info("sandbox {} failed ({} of {} before it is retired): {}", ws.sandboxName(), failures,
                        maxFailures, reason);
                return false;
            }
            retire(ws, "failed " + failures + " times in a row (sandflow.sandbox.max-failures=" + maxFailures
                    + "), the last: " + reason);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Takes a sandbox out of the pool for good (until restart) and says so in the log. */
    public void retire(Workspace ws, String reason) {
        lock.lock();
        try {
            if (retired.putIfAbsent(ws.index(), reason) != null) {
                return;
            }
            free.remove(ws);
            int left = all.size() - retired.size();
            LOG.warn("sandbox {} (worker {}) retired: {}; {} of {} sandboxes left", ws.sandboxName(), ws.index(),
                    reason, left, all.size());
            // Waiting lessees must wake up: if none is left they have to give up instead of waiting forever.
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    public boolean isRetired(Workspace ws) {
        lock.lock();
        try {
            return retired.containsKey(ws.index());
        } finally {
            lock.unlock();
        }
    }

    /** Retired sandboxes by name, with why, in the order they were retired. */
    public Map<String, String> retired() {
        lock.lock();
        try {
            Map<String, String> byName = new LinkedHashMap<>();
            retired.forEach((index, reason) -> byName.put(all.get(index - 1).sandboxName(), reason));
            return byName;
        } finally {
            lock.unlock();
        }
    }

    public int busy() {
        lock.lock();
        try {
            return leased.size();
        } finally {
            lock.unlock();
        }
    }
}
