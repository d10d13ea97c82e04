package io.sandflow.app;

import io.sandflow.job.FailureClass;
import io.sandflow.job.InputCheck;
import io.sandflow.job.JobFailure;
import io.sandflow.job.JobKey;
import io.sandflow.job.JobState;
import io.sandflow.result.AtomicFiles;
import io.sandflow.result.OutputNames;
import io.sandflow.sandbox.Workspace;
import io.sandflow.store.JobStore;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The first steps of a job (bean {@code jobs}): claim it in the store, check the input, lease a worker.
 */
public final class JobSteps {

    static final String RUNNABLE = "sandflowRunnable";
    private static final Logger LOG = LoggerFactory.getLogger("sandflow.intake");

    private final Engine engine;
    private final Progress progress;
    private final Standing standing;

    private final ClaimedElsewhere claimedElsewhere;
    private final IntakeGate gate;
    private final Backoffs backoffs;

    JobSteps(Engine engine, Progress progress, Standing standing, ClaimedElsewhere claimedElsewhere, IntakeGate gate,
             Backoffs backoffs) {
        this.engine = engine;
        this.progress = progress;
        this.standing = standing;
        this.claimedElsewhere = claimedElsewhere;
        this.gate = gate;
        this.backoffs = backoffs;
    }

    /**
     * Claims the job for this node, with the attempts it has used so far. A file whose output already exists, or
     * whose name and content already finished, is moved out of the way without running; a file another node holds,
     * or whose job waits out a backoff, is left alone.
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
        if (!Files.isRegularFile(file)) {
            return;
        }
        job.outputName = OutputNames.resolve(engine.resultNamePattern, job.name);
        try {
            job.key = JobKey.of(file);
        } catch (NoSuchFileException e) {
            return;
        }
        JobStore.Claim claim = engine.store().claim(job.key, engine.nodeId, engine.lease);
        switch (claim.status()) {
            case CLAIMED -> {
                job.jobId = claim.jobId();
                job.fenceToken = claim.fenceToken();
                job.attempt = claim.attempts();
                job.transientFailures = claim.transientFailures();
                job.invalidFailures = claim.invalidFailures();
                if (Files.exists(engine.outbox.resolve(job.outputName))) {
                    // The seed's resume rule: an output already in the outbox means this input is done. Checked
                    // under the claim, so that a node finishing the same job right now is never second-guessed.
                    // not as a completion: a job that did not run here must not count as throughput
                    standing.ended(job, JobState.DONE, () -> {
                        engine.store().markDoneWithoutRun(job.key, engine.nodeId, job.outputName);
                        moveAway(file, engine.archive);
                        return true;
                    });
                    LOG.info("{}: {} already exists in the outbox; not run again", job.name, job.outputName);
                    job.ending = "skipped";
                    progress.finished(exchange);
                    return;
                }
                exchange.setProperty(RUNNABLE, true);
            }
            case ALREADY_DONE -> {
                moveAway(file, engine.archive);
                LOG.info("{}: the same content already succeeded; archived without running", job.name);
                job.ending = "skipped";
                progress.finished(exchange);
            }
            case ALREADY_FAILED -> {
                moveAway(file, engine.failed);
                LOG.info("{}: the same content already failed (see failed/); not run again", job.name);
                job.ending = "skipped";
                progress.finished(exchange);
            }
            case BUSY -> {
                claimedElsewhere.remember(job.name);
                LOG.debug("{}: another node holds this job", job.name);
            }
            case NOT_DUE -> {
                // Another node's backoff, or this node's from before a restart: skipped until due, not asked again
                backoffs.waitFor(file, claim.dueIn());
                LOG.debug("{}: waits out its backoff for {}", job.name, AttemptSteps.human(claim.dueIn()));
            }
        }
    }

    /**
     * Moves a finished input out of the inbox. In a cluster the node that ran the job may have moved it already,
     * between this node's poll and its claim: then there is nothing left to do.
     */
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
        check.checkSize(Files.size(job.inboxFile));
        InputCheck.Checked checked = check.check(Files.readAllBytes(job.inboxFile));
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
        ws.clearJobFiles();
        // The attempt loop runs while this is true; each attempt clears it unless it must go again
        exchange.setProperty(AttemptSteps.AGAIN, true);
        job.stagedInput = ws.input().resolve(job.name);
        try {
            Files.copy(job.inboxFile, job.stagedInput, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new io.sandflow.job.JobParkedException("cannot stage the input in worker " + ws.index()
                    + "'s workspace: " + e.getMessage(), null);
        }
    }

    /** Renews this node's claims on the jobs it runs and records a heartbeat (housekeeping route). */
    public void renewClaims() {
        engine.store().renewLeases(engine.nodeId, engine.lease);
        engine.store().heartbeat(engine.nodeId, engine.host, engine.pool().busy());
    }
}
