package io.sandflow.flow;

import io.sandflow.config.SandflowConfig;
import io.sandflow.inbox.InboxEntries;
import io.sandflow.inbox.InboxNames;
import io.sandflow.job.Durations;
import io.sandflow.job.FailureClass;
import io.sandflow.job.JobFailure;
import io.sandflow.job.JobKey;
import io.sandflow.job.JobParkedException;
import io.sandflow.job.JobState;
import io.sandflow.observe.Standing;
import io.sandflow.result.AtomicFiles;
import io.sandflow.result.OutputNames;
import io.sandflow.sandbox.Workspace;
import io.sandflow.store.JobRecord;
import io.sandflow.store.JobStore;
import io.sandflow.store.StoreException;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Header;
import org.apache.camel.support.SynchronizationAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The first steps of a job (bean {@code jobs}): admit the inbox entry, claim its job in the store and say what the
 * claim found, act on each answer that ends the job before any agent runs, check the input, lease a worker.
 */
public final class JobSteps {

    /** What an inbox entry is to the job route (header {@code sandflowEntry}). */
    public enum Entry {
        /** An input to run. */
        INPUT,
        /** A symbolic link that is not followed: its job fails with the reason. */
        REFUSED_LINK,
        /** Left in the inbox for now: intake is paused, the folders cannot be written, or it is not an input. */
        LEFT
    }

    /** What the claim found (header {@code sandflowClaim}); each is a branch of the dispatch route. */
    public enum Claim {
        /** This node runs the job. */
        CLAIMED,
        /** The same content succeeded before: archived without running. */
        DONE_BEFORE,
        /** The same content failed before: back to failed/ without running. */
        FAILED_BEFORE,
        /** Its result is in the outbox already and nothing says it must be replaced: taken as done. */
        RESULT_IN_OUTBOX,
        /** Claimed, but it cannot run: a link that is not followed, or a result name another input holds. */
        REFUSED,
        /** It waits out a backoff. */
        NOT_DUE,
        /** Another node runs it. */
        BUSY
    }

    private static final Logger LOG = LoggerFactory.getLogger("sandflow.intake");
    /** The header that names the inbox entry of a job. */
    static final String FILE = "CamelFileAbsolutePath";

    private final SandflowConfig config;
    private final Node node;
    private final Standing standing;
    private final ClaimedElsewhere claimedElsewhere;
    private final IntakeGate gate;
    private final Surroundings surroundings;
    private final InboxEntries entries;
    private final Backoffs backoffs;

    JobSteps(SandflowConfig config, Node node, Standing standing, ClaimedElsewhere claimedElsewhere, IntakeGate gate,
             Surroundings surroundings, InboxEntries entries, Backoffs backoffs) {
        this.config = config;
        this.node = node;
        this.standing = standing;
        this.claimedElsewhere = claimedElsewhere;
        this.gate = gate;
        this.surroundings = surroundings;
        this.entries = entries;
        this.backoffs = backoffs;
    }

    /**
     * Starts the job of one inbox entry: puts it on the exchange, with what its end must undo, and says whether it
     * goes on now. Only an input or a link to fail does: a directory, FIFO, socket or device is left alone (and never
     * opened), a file queued before intake paused waits for a later poll, and nothing is claimed while a folder the
     * job would write to cannot be written.
     *
     * @param path the entry, as the inbox consumer or the inbox survey hands it over
     */
    public String admit(@Header(FILE) String path, Exchange exchange) throws IOException {
        Job job = new Job(Path.of(path));
        exchange.setProperty(Job.PROPERTY, job);
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                gate.finished(job.name);
                backoffs.done(job.name);
            }
        });
        if (!gate.admit(job.name)) {
            // Queued before intake paused, or while another job probes: left untouched, unclaimed and unlogged
            return Entry.LEFT.name();
        }
        InboxEntries.Entry entry = entries.classify(job.inboxFile);
        switch (entry.kind()) {
            case INPUT -> job.source = entry.source();
            case REFUSED -> job.refusal = entry.why();
            case NEVER -> {
                entries.noteNever(entry);
                return Entry.LEFT.name();
            }
            default -> {
                // Gone meanwhile, not an input, or a name the inbox survey renames first
                return Entry.LEFT.name();
            }
        }
        if (!surroundings.foldersReady()) {
            return Entry.LEFT.name();
        }
        try {
            if (job.refusal != null) {
                // Keyed by where it points, as its target is not read
                String target = Files.readSymbolicLink(job.inboxFile).toString();
                job.key = new JobKey(job.name, JobKey.sha256(("symbolic link to " + target)
                        .getBytes(StandardCharsets.UTF_8)));
                return Entry.REFUSED_LINK.name();
            }
            job.outputName = outputName(job.name);
            job.key = new JobKey(job.name, JobKey.sha256(job.source));
            return Entry.INPUT.name();
        } catch (NoSuchFileException gone) {
            return Entry.LEFT.name();
        }
    }

    /** The job's content, as the idempotent consumer and the {@link FinishedJobs} repository know it. */
    public String key(@ExchangeProperty(Job.PROPERTY) Job job) {
        return FinishedJobs.key(job.key);
    }

    /**
     * Claims the job for this node and says what it found: a {@link Claim}. A content the store knows as finished
     * ({@code duplicate}) is not claimed. When the outbox holds a later content's result, a content done before runs
     * again; when the result is in the outbox already, a changed input or one asked to run again runs and replaces
     * it. A claimed job comes with the attempts and retries it has used so far.
     *
     * @param duplicate the idempotent consumer's answer: the store has this content finished
     */
    public String claim(@ExchangeProperty(Job.PROPERTY) Job job, @Header("sandflowEntry") String entry,
                        @ExchangeProperty(Exchange.DUPLICATE_MESSAGE) Boolean duplicate) throws IOException {
        JobStore store = node.store();
        if (Boolean.TRUE.equals(duplicate)) {
            Optional<JobRecord> finished = store.find(job.key);
            if (finished.isPresent() && finished.get().state() == JobState.DONE) {
                return Claim.DONE_BEFORE.name();
            }
            if (finished.isPresent() && finished.get().state() == JobState.FAILED) {
                return Claim.FAILED_BEFORE.name();
            }
        }
        for (int round = 0; round < 2; round++) {
            JobStore.Claim claim = store.claim(job.key, node.nodeId(), config.store().lease());
            switch (claim.status()) {
                case CLAIMED -> {
                    return claimed(job, claim, Entry.valueOf(entry)).name();
                }
                case ALREADY_DONE -> {
                    if (round == 0 && job.refusal == null && resultIsAnother(job)
                            && store.reopen(claim.jobId(), claim.fenceToken())) {
                        LOG.info("{}: this content was done before, but the result in the outbox is another content's; "
                                + "it runs again", InboxNames.display(job.name));
                        continue;
                    }
                    return Claim.DONE_BEFORE.name();
                }
                case ALREADY_FAILED -> {
                    return Claim.FAILED_BEFORE.name();
                }
                case NOT_DUE -> {
                    job.dueIn = claim.dueIn();
                    return Claim.NOT_DUE.name();
                }
                default -> {
                    return Claim.BUSY.name();
                }
            }
        }
        return Claim.BUSY.name();
    }

    private Claim claimed(Job job, JobStore.Claim claim, Entry entry) throws IOException {
        job.jobId = claim.jobId();
        job.fenceToken = claim.fenceToken();
        job.attempt = claim.attempts();
        job.transientFailures = claim.transientFailures();
        job.invalidFailures = claim.invalidFailures();
        if (entry == Entry.REFUSED_LINK) {
            return Claim.REFUSED;
        }
        Optional<String> holder = node.store().reserveOutput(job.name, job.outputName);
        if (holder.isPresent()) {
            job.refusal = "its result would be " + job.outputName + ", which is input " + holder.get() + "'s result "
                    + "(sandflow.result.name=" + config.results().namePattern()
                    + (holder.get().equalsIgnoreCase(job.name) ? "; sandflow.include ignores case" : "")
                    + "): rename this file, or name results by {name}, and drop it into the inbox again";
            return Claim.REFUSED;
        }
        Path output = config.folders().outbox().resolve(job.outputName);
        if (Files.exists(output, LinkOption.NOFOLLOW_LINKS)) {
            String why = whyReplace(job);
            if (why == null) {
                // The seed's resume rule, checked under the claim so that a node finishing the same job right now is
                // never second-guessed
                return Claim.RESULT_IN_OUTBOX;
            }
            job.replacing = true;
            job.replacedKey = AtomicFiles.fileKey(output);
            LOG.info("{}: {}; its result {} will replace the one in the outbox, which is kept in outbox/{}/",
                    InboxNames.display(job.name), why, job.outputName, ResultSteps.PREVIOUS);
        }
        return Claim.CLAIMED;
    }

    /** A claimed job that cannot run fails at once, before any agent runs, with the reason. */
    public void refuse(@ExchangeProperty(Job.PROPERTY) Job job) {
        throw new JobFailure(FailureClass.PERMANENT, job.refusal);
    }

    /**
     * The seed's resume rule: a result already in the outbox means this input is done. Recorded so, and the input
     * archived without running; a job that did not run here does not count as throughput.
     */
    public void takeResult(@ExchangeProperty(Job.PROPERTY) Job job) {
        Path archive = config.folders().archive();
        boolean recorded = FolderFault.guard("sandflow.archive", archive, () -> standing.ended(JobState.DONE, () -> {
            node.store().markDoneWithoutRun(job.key, node.nodeId(), job.outputName);
            moveAway(job.inboxFile, archive);
            return true;
        }));
        if (recorded) {
            job.stored = JobState.DONE;
        }
        LOG.info("{}: {} already exists in the outbox; not run again", InboxNames.display(job.name), job.outputName);
        job.ending = "skipped";
    }

    /** The same content succeeded before: archived without running. */
    public void archiveAgain(@ExchangeProperty(Job.PROPERTY) Job job) {
        moveAway(job.inboxFile, config.folders().archive(), "sandflow.archive");
        LOG.info("{}: the same content already succeeded; archived without running", InboxNames.display(job.name));
        job.ending = "skipped";
    }

    /** The same content failed before: back to failed/ without running. */
    public void failAgain(@ExchangeProperty(Job.PROPERTY) Job job) {
        moveAway(job.inboxFile, config.folders().failed(), "sandflow.failed");
        LOG.info("{}: the same content already failed (see failed/); not run again", InboxNames.display(job.name));
        job.ending = "skipped";
    }

    /**
     * The job waits out a backoff (another node's, or this node's from before a restart): the intake passes over its
     * file until it is due, without asking the store again.
     */
    public void waitOutBackoff(@ExchangeProperty(Job.PROPERTY) Job job) {
        backoffs.waitFor(job.inboxFile, job.dueIn);
        LOG.debug("{}: waits out its backoff for {}", job.name, Durations.human(job.dueIn));
    }

    /** Another node runs the job: the intake passes over its file until that node's lease would have ended. */
    public void leaveToPeer(@ExchangeProperty(Job.PROPERTY) Job job) {
        claimedElsewhere.remember(job.name);
        LOG.debug("{}: another node holds this job", job.name);
    }

    /** The result name, shortened (and said so) when the file system would refuse the whole of it. */
    private String outputName(String inputName) {
        String pattern = config.results().namePattern();
        String full = OutputNames.expand(pattern, inputName);
        String name = OutputNames.resolve(pattern, inputName);
        if (!name.equals(full)) {
            LOG.info("{}: its result name would be {} bytes, more than the file system's {}; it is {}",
                    InboxNames.display(inputName), OutputNames.utf8Length(full), OutputNames.MAX_NAME_BYTES,
                    InboxNames.display(name));
        }
        return name;
    }

    /** Why the result in the outbox is replaced rather than taken as this input's, or null when it is taken. */
    private String whyReplace(Job job) {
        if (node.store().rerunRequested(job.jobId)) {
            return "asked to run again (sandflow rerun)";
        }
        boolean earlierContentDone = node.store().findByName(job.name).stream()
                .anyMatch(r -> r.state() == JobState.DONE && !r.sha256().equals(job.key.sha256())
                        && (r.outputName() == null || r.outputName().equals(job.outputName)));
        return earlierContentDone ? "its content changed since its result was made" : null;
    }

    /** Whether the outbox holds a result made from another content of this name, later than this one's. */
    private boolean resultIsAnother(Job job) {
        if (!Files.exists(config.folders().outbox().resolve(job.outputName), LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        return FinishedJobs.latestDoneIsAnother(node.store().findByName(job.name), job.key.sha256());
    }

    /**
     * Moves a finished input out of the inbox. In a cluster the node that ran the job may have moved it already,
     * between this node's poll and its claim: then there is nothing left to do.
     */
    private static void moveAway(Path file, Path dir, String setting) {
        FolderFault.guard(setting, dir, () -> {
            moveAway(file, dir);
            return null;
        });
    }

    private static void moveAway(Path file, Path dir) throws IOException {
        try {
            AtomicFiles.moveInto(file, dir);
        } catch (NoSuchFileException gone) {
            LOG.debug("{} was already moved by another node", file.getFileName());
        }
    }

    /** Checks the input and reads it; a refusal is permanent and names the reason. */
    public void check(@ExchangeProperty(Job.PROPERTY) Job job) throws IOException {
        var check = config.intake().check();
        check.checkSize(Files.size(job.source));
        var checked = check.check(Files.readAllBytes(job.source));
        job.text = checked.text();
        job.json = checked.json();
    }

    /**
     * Leases a worker's workspace for the rest of the job and stages the input in it, where the agent sees it. The
     * workspace goes back to the pool when the exchange completes, however it ends.
     */
    public void lease(@ExchangeProperty(Job.PROPERTY) Job job, Exchange exchange) throws InterruptedException {
        Workspace ws = node.pool().lease();
        job.workspace = ws;
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                try {
                    ws.clearJobFiles();
                } catch (IOException e) {
                    LOG.warn("worker {}: cannot clear its workspace: {}", ws.index(), e.getMessage());
                } finally {
                    node.pool().release(ws);
                }
            }
        });
        try {
            // Whatever the last job left (links to host folders included) goes; nothing is followed
            ws.reset();
            job.stagedInput = ws.stageInput(job.source, job.name);
        } catch (IOException e) {
            throw new JobParkedException("cannot stage the input in worker " + ws.index() + "'s workspace: "
                    + e.getMessage(), null);
        }
    }

    /** Renews this node's claims on the jobs it runs and records a heartbeat (housekeeping route). */
    public void renewClaims() {
        try {
            node.store().renewLeases(node.nodeId(), config.store().lease());
            node.store().heartbeat(node.nodeId(), node.host(), node.pool().busy());
        } catch (StoreException e) {
            // Claims cannot be renewed while the store is down: no new job starts until it is back
            surroundings.storeFailed(e);
        }
    }
}
