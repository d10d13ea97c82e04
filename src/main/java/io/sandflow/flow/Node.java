package io.sandflow.flow;

import io.sandflow.config.ConfigException;
import io.sandflow.config.HttpPort;
import io.sandflow.config.SandflowConfig;
import io.sandflow.job.Durations;
import io.sandflow.process.ProcessRunner;
import io.sandflow.sandbox.WorkerPool;
import io.sandflow.sandbox.Workspace;
import io.sandflow.store.JdbcUrls;
import io.sandflow.store.JobStore;
import io.sandflow.store.NodeRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * What this node holds while it runs: the working folder's lock, its folders and workers, the runner of its agents,
 * and the job store, opened on a thread of its own while Camel builds the routes.
 */
public final class Node implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger("sandflow");

    private final SandflowConfig config;
    private final String host = SandflowConfig.hostName();
    /** Runs the agents, and kills what is left of them at stop. */
    private final ProcessRunner runner = new ProcessRunner();
    private WorkerPool pool;
    private WorkingFolderLock folderLock;
    private volatile JobStore store;
    private CompletableFuture<JobStore> storeOpening;

    /** A node not open yet: nothing is taken or created until {@link #open()}. */
    public Node(SandflowConfig config) {
        this.config = config;
    }

    /**
     * Takes the working folder, starts opening the store, then creates the folders and workspaces and makes every
     * sandbox ready. The store (pool, database, migrations) is the longest step of a start: it goes on while the
     * rest of the node and Camel's routes are built, and the first use of {@link #store()} waits for it.
     */
    public Node open() throws IOException {
        var sandbox = config.sandbox().sandbox();
        config.hostPrograms().forEach(Node::requireProgram);
        // One daemon per working folder: a second one would share this one's node id and run its jobs again
        folderLock = WorkingFolderLock.take(config.folders().workDir());
        storeOpening = CompletableFuture.supplyAsync(this::openStore, task -> {
            Thread t = new Thread(task, "sandflow-store-open");
            t.setDaemon(true);
            t.start();
        });
        try {
            for (Path dir : config.folders().written().values()) {
                Files.createDirectories(dir);
            }
            // Each sandbox is made ready (time-boxed); those that cannot be are retired and logged, and start-up
            // fails with one sentence (SandboxException) only when none is left
            pool = new WorkerPool(config.folders().workspace(), config.sandbox().names(),
                    config.sandbox().maxFailures());
            int orphans = AgentExec.Executor.killOrphans(runner, pool.all().stream().map(Workspace::root).toList());
            if (orphans > 0) {
                LOG.warn("killed {} agent process tree(s) left running by a previous run that was killed", orphans);
            }
            pool.prepare(sandbox);
            HttpPort.requireFree(config.http());
            removeTempFiles(config.folders().outbox());
            removeTempFiles(config.folders().failed());
        } catch (IOException | RuntimeException e) {
            try {
                close();
            } catch (Exception closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
        return this;
    }

    private JobStore openStore() {
        JobStore opened;
        String url = config.store().url();
        try {
            opened = JobStore.open(url, System.getenv("SANDFLOW_STORE_USER"), System.getenv("SANDFLOW_STORE_PASSWORD"));
        } catch (IllegalStateException cannotOpen) {
            // A store that cannot be opened at start is, like a bad setting, one sentence naming the setting
            throw new ConfigException(cannotOpen.getMessage());
        }
        try {
            // Before this node touches any job: a store that serves another inbox would have it skip that
            // inbox's jobs as done, or release them
            InboxIdentity.check(opened, config.folders().inbox(), JdbcUrls.redact(url));
            requireOwnNodeId(opened);
            opened.nodeStarted(nodeId(), host);
            int released = opened.releaseOwnedBy(nodeId());
            if (released > 0) {
                LOG.info("{} job(s) this node was running when it last stopped are pending again", released);
            }
            return opened;
        } catch (RuntimeException e) {
            opened.close();
            throw e;
        }
    }

    /**
     * Two live nodes with one id would each take the other's jobs for their own: a node whose id has a heartbeat
     * from another host within the lease refuses to start. (On this host, the working folder's lock already keeps
     * a second daemon out, and a restart after a crash must not wait for its own old heartbeat.)
     */
    private void requireOwnNodeId(JobStore opened) {
        Duration lease = config.store().lease();
        for (NodeRecord node : opened.nodes()) {
            if (!node.nodeId().equals(nodeId()) || node.host() == null || node.host().equals(host)
                    || node.heartbeatAt() == null || node.stoppedAt() != null) {
                continue;
            }
            Duration since = Duration.between(node.heartbeatAt(), Instant.now()).abs();
            if (since.compareTo(lease) < 0) {
                throw new ConfigException("sandflow.node.id=" + nodeId() + " is in use by a node on host "
                        + node.host() + " (its last heartbeat " + since.toSeconds() + " s ago): give each node of "
                        + "the cluster its own sandflow.node.id, or, if that node has stopped, start this one after "
                        + "sandflow.cluster.lease=" + Durations.human(lease));
            }
        }
    }

    /** The store, once open: the first callers wait for its opening to end, and get its error. */
    public JobStore store() {
        JobStore s = store;
        return s != null ? s : awaitStore();
    }

    private synchronized JobStore awaitStore() {
        if (store == null) {
            if (storeOpening == null) {
                throw new IllegalStateException("the node is not open");
            }
            try {
                store = storeOpening.join();
            } catch (CompletionException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                throw e;
            }
        }
        return store;
    }

    /** Records in the store that this node stopped cleanly, so that status shows it stopped at once. */
    public void stopped() {
        try {
            store().nodeStopped(nodeId());
        } catch (RuntimeException e) {
            LOG.warn("cannot record this node's stop in the store: {}", e.getMessage());
        }
    }

    public WorkerPool pool() {
        return pool;
    }

    public ProcessRunner runner() {
        return runner;
    }

    public String nodeId() {
        return config.store().nodeId();
    }

    public String host() {
        return host;
    }

    public SandflowConfig config() {
        return config;
    }

    @Override
    public void close() throws Exception {
        JobStore s = store;
        if (s == null && storeOpening != null) {
            // Closed before anyone used it (start-up failed elsewhere): wait for the opening, so as not to leave
            // the database open behind us
            s = storeOpening.exceptionally(e -> null).join();
        }
        try {
            if (s != null) {
                s.close();
            }
        } finally {
            releaseFolderLock();
        }
    }

    private void releaseFolderLock() {
        if (folderLock != null) {
            try {
                folderLock.close();
            } catch (IOException e) {
                LOG.debug("cannot release the working folder's lock: {}", e.getMessage());
            }
            folderLock = null;
        }
    }

    /** A kill -9 between writing a result's temp file and publishing it leaves the temp file: remove it. */
    private static void removeTempFiles(Path dir) throws IOException {
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
            for (Path p : files.toList()) {
                String n = p.getFileName().toString();
                if (n.startsWith(".sandflow-") && n.endsWith(".tmp")) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** A program this machine must run, found on PATH or at its path. */
    private static void requireProgram(String program, String setting) {
        if (ProcessRunner.locate(program).isEmpty()) {
            throw new ConfigException(setting + ": cannot find the program '" + program + "'"
                    + (program.contains("/") ? "" : " on PATH") + " (run `sandflow doctor` for what is missing)");
        }
    }
}
