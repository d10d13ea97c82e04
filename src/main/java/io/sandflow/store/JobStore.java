package io.sandflow.store;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

import io.sandflow.job.JobKey;

/**
 * The persistent record of every job, shared by the nodes of a cluster: who runs what (claims under a lease with a
 * fence token), how each job ended, and the small state the nodes share. Thread-safe. All times, leases included,
 * come from the database's clock (CURRENT_TIMESTAMP), so that the nodes' clocks do not matter.
 *
 * <p>Every write that a node makes about a job it claimed is fenced: it names the fence token of its claim and
 * changes nothing, returning false, when another claim has since taken the job.
 */
public interface JobStore extends AutoCloseable {

    /** The setting that holds the store's JDBC URL; errors about the URL name it. */
    String URL_SETTING = "sandflow.store.url";

    /**
     * The embedded default: an H2 file under the working directory. AUTO_SERVER lets a second process (a status or
     * retry-failed command) use the file while the daemon has it open, by connecting through the daemon.
     */
    String DEFAULT_URL = "jdbc:h2:./data/sandflow;AUTO_SERVER=TRUE";

    /** Connections kept by a store opened without a size. */
    int DEFAULT_POOL_SIZE = 4;

    /**
     * Opens the store at a JDBC URL (jdbc:h2:... or jdbc:postgresql:...) and brings its schema up to date.
     *
     * @throws IllegalStateException when the URL is of another kind, the database cannot be reached or the schema
     *                               cannot be migrated; the message names {@value #URL_SETTING}, the URL without
     *                               its password, and the cause, in one sentence
     */
    static JobStore open(String jdbcUrl, String user, String password) {
        return open(jdbcUrl, user, password, DEFAULT_POOL_SIZE);
    }

    /** As {@link #open(String, String, String)}, keeping at most {@code poolSize} connections. */
    static JobStore open(String jdbcUrl, String user, String password, int poolSize) {
        return JdbcJobStore.open(jdbcUrl, user, password, poolSize);
    }

    /**
     * Claims a job for a node, atomically: inserts a new job as RUNNING, or takes over a PENDING or PARKED one whose
     * not-before time (its backoff, see {@link #retryLater}) has passed, a RUNNING one whose lease has expired, or a
     * RUNNING one that this same node owns (the node restarted). Each successful claim increments the job's fence
     * token. Exactly one of several concurrent claims of one key wins. Two threads of one node claiming the same
     * key both win, the later with the higher token: a node must not run one key twice at once.
     */
    Claim claim(JobKey key, String nodeId, Duration lease);

    /**
     * The answer to a claim; for a claim not won, jobId, fenceToken and the counts are the job's current ones.
     *
     * @param attempts          agent runs the job has started, over all its claims
     * @param transientFailures transient failures counted against its retries so far
     * @param invalidFailures   unusable answers counted against its retries so far
     * @param dueIn             for {@link Status#NOT_DUE}, how long until it may be claimed; zero otherwise
     */
    record Claim(Status status, long jobId, long fenceToken, int attempts, int transientFailures, int invalidFailures,
                 Duration dueIn) {

        /** How a claim ended. NOT_DUE: the job waits for its backoff; ask again after {@code dueIn}. */
        public enum Status { CLAIMED, ALREADY_DONE, ALREADY_FAILED, BUSY, NOT_DUE }

        public Claim(Status status, long jobId, long fenceToken, int attempts) {
            this(status, jobId, fenceToken, attempts, 0, 0, Duration.ZERO);
        }

        public boolean claimed() {
            return status == Status.CLAIMED;
        }
    }

    /** Whether this claim still holds the job: it is RUNNING and no later claim has taken it. */
    boolean isOwner(long jobId, long fenceToken);

    /** Extends the lease of every RUNNING job the node owns to now + lease; returns how many. */
    int renewLeases(String nodeId, Duration lease);

    /** Records that attempt number {@code attempt} began in a sandbox; false when the claim is stale. */
    boolean attemptStarted(long jobId, long fenceToken, int attempt, String sandbox);

    /** Marks the job DONE with its outcome; false, changing nothing, when the claim is stale. */
    boolean complete(long jobId, long fenceToken, JobOutcome outcome);

    /** Marks the job FAILED with its outcome; false, changing nothing, when the claim is stale. */
    boolean fail(long jobId, long fenceToken, JobOutcome outcome);

    /** Puts the job back as PARKED (a systemic failure holds it), without owner; false when the claim is stale. */
    boolean park(long jobId, long fenceToken, String reason);

    /** Puts the job back as PENDING (the node shuts down), without owner; false when the claim is stale. */
    boolean release(long jobId, long fenceToken);

    /**
     * Puts the job back as PENDING, without owner, not to be claimed again before {@code wait} has passed (a
     * transient failure's backoff: the node's worker takes other jobs meanwhile); false when the claim is stale.
     */
    boolean retryLater(long jobId, long fenceToken, Duration wait, String reason);

    /**
     * Records one finished agent run of the job in its history, adds its cost and tokens to the job and to the
     * store's totals, and, when it counts against the job's retries, to the job's count for its failure class.
     * Not fenced: the run happened and was paid for even when the node's claim has gone stale meanwhile. Not
     * flushed either: the job's next durable write (its end) carries it to disk.
     */
    void recordAttempt(long jobId, AttemptOutcome attempt);

    /** The job's agent runs, in the order they started. */
    List<AttemptRecord> attempts(long jobId);

    /**
     * The agent runs of every job that ended at or after {@code since}, in the order they ended: the spend and agent
     * time of a batch over time.
     */
    List<AttemptRecord> attemptsEndedSince(java.time.Instant since);

    /**
     * Deletes FAILED jobs, with their attempt history, so that their files run again: those with one of the given
     * names (all when empty) whose last error contains {@code reasonContains} ignoring case (any when null or blank).
     * Returns the names of the deleted jobs, one per job.
     */
    List<String> forgetFailed(Collection<String> names, String reasonContains);

    /**
     * Records a job as DONE without running it, because its output is already there: inserts it, or ends it
     * whatever its state, incrementing the fence token so that a node still running it cannot write a result.
     * Its finished_at stays empty, so that it does not count as throughput.
     */
    void markDoneWithoutRun(JobKey key, String nodeId, String outputName);

    /**
     * Takes a result name for an input name, or names the input that holds it: the first input name to take a result
     * name keeps it while it has a job that did not fail. Of two inputs that would share one result, exactly one gets
     * it, however their nodes race; the other learns who has it, before its agent runs. Empty when the name is this
     * input's.
     */
    Optional<String> reserveOutput(String inputName, String outputName);

    /**
     * Puts a DONE or FAILED job back to PENDING, with its attempts at zero, so that a claim takes it again; false,
     * changing nothing, when the job changed since the claim answer that gave {@code fenceToken}.
     */
    boolean reopen(long jobId, long fenceToken);

    /**
     * Asks for one more run of this content of a file ({@code sandflow rerun}): its job, created when missing, is
     * PENDING (a DONE or FAILED one is reopened) and marked so that its result replaces the one in the outbox even
     * though the content did not change. The mark lasts until the job ends.
     */
    void requestRerun(JobKey key);

    /** Whether the job was marked by {@link #requestRerun} and has not ended since. */
    boolean rerunRequested(long jobId);

    Optional<JobRecord> find(JobKey key);

    /** Every job of that file name, one per content seen, oldest first. */
    List<JobRecord> findByName(String name);

    /** The job with this id. */
    Optional<JobRecord> job(long jobId);

    /** Every job in the store, oldest first: one row per job for an export, a report or the console. */
    List<JobRecord> jobs();

    /** Counts, totals, throughput, the {@code topReasons} most common failure reasons, and the nodes. */
    StatusSnapshot status(int topReasons);

    /** Records that a node is alive and how many jobs it runs; the first heartbeat registers the node. */
    void heartbeat(String nodeId, String host, int runningJobs);

    /** Records that a node (re)started now; its started_at is reset. */
    void nodeStarted(String nodeId, String host);

    /** Records that a node stopped cleanly now. */
    void nodeStopped(String nodeId);

    /** All nodes, by id. */
    List<NodeRecord> nodes();

    Optional<String> getState(String key);

    void putState(String key, String value);

    /** The spend of all jobs ever recorded, including those forgotten by {@link #forgetFailed}. */
    BigDecimal totalCostUsd();

    /** At a clean start of a node: its RUNNING jobs go back to PENDING, with a new fence token; returns how many. */
    int releaseOwnedBy(String nodeId);

    /**
     * Writes a small row and, on H2, flushes it: succeeds only when the store can take writes again, which a read
     * alone would not show (a full disk still reads).
     *
     * @throws StoreException when it cannot
     */
    void probe();

    /** Which database this store uses: "h2" or "postgresql". */
    String databaseKind();

    /** Closes the connections; calls after it fail. */
    @Override
    void close();
}
