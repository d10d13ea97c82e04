package io.sandflow.flow;

import io.sandflow.inbox.InboxEntries;
import io.sandflow.observe.Progress;
import io.sandflow.observe.Standing;
import io.sandflow.job.Durations;
import io.sandflow.job.FailureClass;
import io.sandflow.job.InputCheck;
import io.sandflow.job.JobFailure;
import io.sandflow.job.JobKey;
import io.sandflow.job.JobState;
import io.sandflow.result.AtomicFiles;
import io.sandflow.result.OutputNames;
import io.sandflow.sandbox.Workspace;
import io.sandflow.store.JobRecord;
import io.sandflow.store.JobStore;
import io.sandflow.store.StoreException;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;

/**
 * The first steps of a job (bean {@code jobs}): claim it in the store, check the input, lease a worker.
 */
public final class JobSteps {

    public static final String RUNNABLE = "sandflowRunnable";
    private static final Logger LOG = LoggerFactory.getLogger("sandflow.intake");

    private final Engine engine;
    private final Progress progress;
    private final Standing standing;

    private final ClaimedElsewhere claimedElsewhere;
    private final IntakeGate gate;
    private final Surroundings surroundings;
    private final InboxEntries entries;
    private final Backoffs backoffs;

    JobSteps(Engine engine, Progress progress, Standing standing, ClaimedElsewhere claimedElsewhere, IntakeGate gate,
             Surroundings surroundings, InboxEntries entries, Backoffs backoffs) {
        this.engine = engine;
        this.progress = progress;
        this.standing = standing;
        this.claimedElsewhere = claimedElsewhere;
        this.gate = gate;
        this.surroundings = surroundings;
        this.entries = entries;
        this.backoffs = backoffs;
    }

    /**
     * Claims the job for this node and decides whether it runs.
     * <ul>
     * <li>Only an input runs: a directory, FIFO, socket or device is left alone (and never opened); a symbolic link
     * that {@code sandflow.intake.follow-links} does not follow fails with the reason.</li>
     * <li>An input whose result name another input holds fails before its agent runs.</li>
     * <li>When the result is in the outbox already: a changed input (the store knows this name's earlier content as
     * done) or one asked to run again ({@code sandflow rerun}) runs and replaces it; any other input is done (the
     * seed's resume rule) and is moved out of the way without running.</li>
     * <li>The same name and content again: done before, it is archived without running, unless the result in the
     * outbox is a later content's, when it runs again; failed before, it goes back to failed/. A file another node
     * holds is left alone, and so is one whose job waits out a backoff.</li>
     * </ul>
     * A claimed job comes with the attempts it has used so far.
     */
    public void claim(Exchange exchange) throws IOException {
        Path file = Path.of(exchange.getIn().getHeader("CamelFileAbsolutePath", String.class));
        Job job = new Job(file);
        exchange.setProperty(Job.PROPERTY, job);
        exchange.setProperty(RUNNABLE, false);
        exchange.getExchangeExtension().addOnCompletion(new org.apache.camel.support.SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                gate.finished(job.name);
                backoffs.done(job.name);
            }
        });
        if (!gate.admit(job.name)) {
            // Queued before intake paused, or while another job probes: left in the inbox untouched, unclaimed and
            // unlogged, for a later poll
            return;
        }
        InboxEntries.Entry entry = entries.classify(file);
        switch (entry.kind()) {
            case INPUT -> job.source = entry.source();
            case REFUSED -> {
                // a link that is not followed: failed below, once the folders are known to be writable
            }
            case NEVER -> {
                entries.noteNever(entry);
                return;
            }
            default -> {
                // gone meanwhile, not an input, or a name the inbox survey renames first
                return;
            }
        }
        if (!surroundings.foldersReady()) {
            // A folder the job would write to cannot be written: it waits in the inbox, unclaimed
            return;
        }
        try {
            if (entry.kind() == InboxEntries.Kind.REFUSED) {
                claimRefused(exchange, job, entry);
                return;
            }
            job.outputName = outputName(job.name);
            try {
                job.key = new JobKey(job.name, JobKey.sha256(job.source));
            } catch (NoSuchFileException e) {
                return;
            }
            claimAndDecide(exchange, job);
        } catch (StoreException e) {
            // The store is down: the job stays pending, its file in the inbox, and intake waits for the store
            surroundings.storeFailed(e);
            exchange.setProperty(RUNNABLE, false);
        } catch (FolderFault e) {
            surroundings.folderFailed(e.getMessage());
            exchange.setProperty(RUNNABLE, false);
        }
    }

    private void claimAndDecide(Exchange exchange, Job job) throws IOException {
        for (int round = 0; round < 2; round++) {
            JobStore.Claim claim = engine.store().claim(job.key, engine.nodeId, engine.lease);
            if (claim.status() == JobStore.Claim.Status.CLAIMED) {
                claimed(exchange, job, claim);
                return;
            }
            if (round == 0 && claim.status() == JobStore.Claim.Status.ALREADY_DONE && resultIsAnother(job)
                    && engine.store().reopen(claim.jobId(), claim.fenceToken())) {
                LOG.info("{}: this content was done before, but the result in the outbox is another content's; it "
                        + "runs again", InboxEntries.display(job.name));
                continue;
            }
            notClaimed(exchange, job, claim);
            return;
        }
    }

    private void claimed(Exchange exchange, Job job, JobStore.Claim claim) throws IOException {
        job.jobId = claim.jobId();
        job.fenceToken = claim.fenceToken();
        job.attempt = claim.attempts();
        job.transientFailures = claim.transientFailures();
        job.invalidFailures = claim.invalidFailures();
        Optional<String> holder = engine.store().reserveOutput(job.name, job.outputName);
        if (holder.isPresent()) {
            throw new JobFailure(FailureClass.PERMANENT, "its result would be " + job.outputName + ", which is "
                    + "input " + holder.get() + "'s result (sandflow.result.name=" + engine.resultNamePattern
                    + (holder.get().equalsIgnoreCase(job.name) ? "; sandflow.include ignores case" : "")
                    + "): rename this file, or name results by {name}, and drop it into the inbox again");
        }
        Path output = engine.outbox.resolve(job.outputName);
        if (Files.exists(output, LinkOption.NOFOLLOW_LINKS)) {
            String why = whyReplace(job);
            if (why == null) {
                // The seed's resume rule: an output already in the outbox means this input is done. Checked
                // under the claim, so that a node finishing the same job right now is never second-guessed.
                // not as a completion: a job that did not run here must not count as throughput
                FolderFault.guard("sandflow.archive", engine.archive, () -> {
                    standing.ended(job, JobState.DONE, () -> {
                        engine.store().markDoneWithoutRun(job.key, engine.nodeId, job.outputName);
                        moveAway(job.inboxFile, engine.archive);
                        return true;
                    });
                    return null;
                });
                LOG.info("{}: {} already exists in the outbox; not run again", InboxEntries.display(job.name),
                        job.outputName);
                job.ending = "skipped";
                progress.finished(exchange);
                return;
            }
            job.replacing = true;
            job.replacedKey = AtomicFiles.fileKey(output);
            LOG.info("{}: {}; its result {} will replace the one in the outbox, which is kept in outbox/{}/",
                    InboxEntries.display(job.name), why, job.outputName, ResultSteps.PREVIOUS);
        }
        exchange.setProperty(RUNNABLE, true);
    }

    private void notClaimed(Exchange exchange, Job job, JobStore.Claim claim) throws IOException {
        switch (claim.status()) {
            case ALREADY_DONE -> {
                moveAway(job.inboxFile, engine.archive, "sandflow.archive");
                LOG.info("{}: the same content already succeeded; archived without running",
                        InboxEntries.display(job.name));
                job.ending = "skipped";
                progress.finished(exchange);
            }
            case ALREADY_FAILED -> {
                moveAway(job.inboxFile, engine.failed, "sandflow.failed");
                LOG.info("{}: the same content already failed (see failed/); not run again",
                        InboxEntries.display(job.name));
                job.ending = "skipped";
                progress.finished(exchange);
            }
            case NOT_DUE -> {
                // Another node's backoff, or this node's from before a restart: skipped until due, not asked again
                backoffs.waitFor(job.inboxFile, claim.dueIn());
                LOG.debug("{}: waits out its backoff for {}", job.name, Durations.human(claim.dueIn()));
            }
            default -> {
                claimedElsewhere.remember(job.name);
                LOG.debug("{}: another node holds this job", job.name);
            }
        }
    }

    /**
     * A link that is not followed: its job (keyed by where it points, as its target is not read) fails at once with
     * the reason, and the link itself moves to failed/.
     */
    private void claimRefused(Exchange exchange, Job job, InboxEntries.Entry entry) throws IOException {
        String target;
        try {
            target = Files.readSymbolicLink(job.inboxFile).toString();
        } catch (NoSuchFileException gone) {
            return;
        }
        job.key = new JobKey(job.name, JobKey.sha256(("symbolic link to " + target).getBytes(StandardCharsets.UTF_8)));
        JobStore.Claim claim = engine.store().claim(job.key, engine.nodeId, engine.lease);
        if (!claim.claimed()) {
            notClaimed(exchange, job, claim);
            return;
        }
        job.jobId = claim.jobId();
        job.fenceToken = claim.fenceToken();
        throw new JobFailure(FailureClass.PERMANENT, entry.why());
    }

    /** The result name, shortened (and said so) when the file system would refuse the whole of it. */
    private String outputName(String inputName) {
        String full = OutputNames.expand(engine.resultNamePattern, inputName);
        String name = OutputNames.resolve(engine.resultNamePattern, inputName);
        if (!name.equals(full)) {
            LOG.info("{}: its result name would be {} bytes, more than the file system's {}; it is {}",
                    InboxEntries.display(inputName), OutputNames.utf8Length(full), OutputNames.MAX_NAME_BYTES,
                    InboxEntries.display(name));
        }
        return name;
    }

    /** Why the result in the outbox is replaced rather than taken as this input's, or null when it is taken. */
    private String whyReplace(Job job) {
        if (engine.store().rerunRequested(job.jobId)) {
            return "asked to run again (sandflow rerun)";
        }
        boolean earlierContentDone = engine.store().findByName(job.name).stream()
                .anyMatch(r -> r.state() == JobState.DONE && !r.sha256().equals(job.key.sha256())
                        && (r.outputName() == null || r.outputName().equals(job.outputName)));
        return earlierContentDone ? "its content changed since its result was made" : null;
    }

    /** Whether the outbox holds a result made from another content of this name, later than this one's. */
    private boolean resultIsAnother(Job job) {
        if (!Files.exists(engine.outbox.resolve(job.outputName), LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        return engine.store().findByName(job.name).stream()
                .filter(r -> r.state() == JobState.DONE)
                .max(Comparator.comparing((JobRecord r) -> r.finishedAt() != null ? r.finishedAt() : r.createdAt())
                        .thenComparingLong(JobRecord::id))
                .map(latest -> !latest.sha256().equals(job.key.sha256()))
                .orElse(false);
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
    public void check(Exchange exchange) throws IOException {
        Job job = exchange.getProperty(Job.PROPERTY, Job.class);
        InputCheck check = engine.inputCheck;
        check.checkSize(Files.size(job.source));
        InputCheck.Checked checked = check.check(Files.readAllBytes(job.source));
        job.text = checked.text();
        job.json = checked.json();
    }

    /**
     * Leases a worker's workspace for the rest of the job and stages the input in it, where the agent sees it.
     * The workspace goes back to the pool when the exchange completes, however it ends.
     */
    public void lease(Exchange exchange) throws IOException, InterruptedException {
        Job job = exchange.getProperty(Job.PROPERTY, Job.class);
        Workspace ws = engine.pool().lease();
        job.workspace = ws;
        exchange.getExchangeExtension().addOnCompletion(new org.apache.camel.support.SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                try {
                    ws.clearJobFiles();
                } catch (IOException e) {
                    LOG.warn("worker {}: cannot clear its workspace: {}", ws.index(), e.getMessage());
                } finally {
                    engine.pool().release(ws);
                }
            }
        });
        // The attempt loop runs while this is true; each attempt clears it unless it must go again
        exchange.setProperty(AttemptSteps.AGAIN, true);
        try {
            // Whatever the last job left (links to host folders included) goes; nothing is followed
            ws.reset();
            job.stagedInput = ws.stageInput(job.source, job.name);
        } catch (IOException e) {
            throw new io.sandflow.job.JobParkedException("cannot stage the input in worker " + ws.index()
                    + "'s workspace: " + e.getMessage(), null);
        }
    }

    /** Renews this node's claims on the jobs it runs and records a heartbeat (housekeeping route). */
    public void renewClaims() {
        try {
            engine.store().renewLeases(engine.nodeId, engine.lease);
            engine.store().heartbeat(engine.nodeId, engine.host, engine.pool().busy());
        } catch (StoreException e) {
            // Claims cannot be renewed while the store is down: no new job starts until it is back
            surroundings.storeFailed(e);
        }
    }
}
