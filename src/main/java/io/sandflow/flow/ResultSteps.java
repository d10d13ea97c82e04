package io.sandflow.flow;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sandflow.agent.Redactor;
import io.sandflow.config.SandflowConfig;
import io.sandflow.inbox.InboxNames;
import io.sandflow.job.FailureClass;
import io.sandflow.job.JobFailure;
import io.sandflow.job.JobKey;
import io.sandflow.job.JobParkedException;
import io.sandflow.job.JobState;
import io.sandflow.job.Json;
import io.sandflow.observe.LogLines;
import io.sandflow.observe.Standing;
import io.sandflow.result.AtomicFiles;
import io.sandflow.result.OutputNames;
import io.sandflow.result.ResultWriter;
import io.sandflow.store.JobOutcome;
import io.sandflow.store.JobStore;
import io.sandflow.store.StoreException;
import org.apache.camel.Body;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/**
 * The last steps of a job (bean {@code results}): publish a validated result, or fail the job with a report, or
 * park it, or leave it waiting while Sandflow's own surroundings fail. Outputs are written once and whole; a node
 * that lost its claim writes nothing.
 */
public final class ResultSteps {

    private static final Logger LOG = LoggerFactory.getLogger("sandflow.results");
    /** Where a replaced result is kept, inside the outbox. */
    static final String PREVIOUS = ".previous";

    private final SandflowConfig config;
    private final Node node;
    private final Standing standing;
    private final Redactor redactor;
    private final Surroundings surroundings;
    private final ResultWriter writer = new ResultWriter();

    ResultSteps(SandflowConfig config, Node node, Standing standing, Redactor redactor, Surroundings surroundings) {
        this.config = config;
        this.node = node;
        this.standing = standing;
        this.redactor = redactor;
        this.surroundings = surroundings;
    }

    /**
     * Whether this node's claim still holds the job, checked just before its result is published: a node whose claim
     * another node took over publishes nothing.
     */
    public boolean claimHeld(@ExchangeProperty(Job.PROPERTY) Job job) {
        if (node.store().isOwner(job.jobId, job.fenceToken)) {
            return true;
        }
        LOG.warn("{}: this node's claim was taken over by another node; its result is dropped", job.name);
        job.ending = "lost";
        return false;
    }

    /**
     * Writes the result to the outbox once, then records the job as done and archives its input. A folder that
     * cannot be written is a {@link FolderFault} and a store that fails a {@link StoreException}: both leave the
     * input in the inbox, and a result already published is taken as the job's end when it is claimed again.
     */
    public void write(@ExchangeProperty(Job.PROPERTY) Job job) {
        if (job.result == null) {
            throw new IllegalStateException(job.name + ": no validated result to publish");
        }
        Path outbox = config.folders().outbox();
        Path target = outbox.resolve(job.outputName);
        boolean written = FolderFault.guard("sandflow.outbox", outbox, () -> {
            if (!job.replacing) {
                return AtomicFiles.writeOnce(target, writer.render(job.result));
            }
            AtomicFiles.Replacement done = AtomicFiles.replace(target, writer.render(job.result), job.replacedKey,
                    outbox.resolve(PREVIOUS), Instant.now());
            if (done.kept() != null) {
                LOG.info("{}: replaced {}; the previous result is kept as outbox/{}/{}", InboxNames.display(job.name),
                        job.outputName, PREVIOUS, done.kept().getFileName());
            }
            return done.published();
        });
        job.published = true;
        if (!written) {
            LOG.warn("{}: {} appeared in the outbox meanwhile; kept the one already there", job.name, job.outputName);
        }
        FolderFault.guard("sandflow.failed", config.folders().failed(), () -> Files.deleteIfExists(reportPath(job)));
        // The row and the input's move to the archive in one step, as fail() does: a progress refresh never
        // finds the job DONE in the store with its input still counted in the inbox
        boolean recorded = FolderFault.guard("sandflow.archive", config.folders().archive(),
                () -> standing.ended(JobState.DONE, () -> {
                    boolean done = node.store().complete(job.jobId, job.fenceToken, outcome(job, null, null));
                    if (done) {
                        archiveInput(job);
                    }
                    return done;
                }));
        if (recorded) {
            job.stored = JobState.DONE;
        }
        job.ending = "ok";
    }

    /** Moves the finished input to the archive if it is still in the inbox ({@link #write} does it already). */
    public void archive(@ExchangeProperty(Job.PROPERTY) Job job) throws IOException {
        archiveInput(job);
    }

    private void archiveInput(Job job) throws IOException {
        try {
            AtomicFiles.moveInto(job.inboxFile, config.folders().archive());
        } catch (java.nio.file.NoSuchFileException gone) {
            // Already archived: by write(), or by another node that saw the job done
        }
    }

    /**
     * The report of a job that fails for good (the fail route, before it is rendered as JSON): file, reason, class,
     * attempts, exit code, the tails of the agent's output and stderr (secrets masked), spend, node, time.
     *
     * @param cause what ended the job
     */
    public ObjectNode report(@ExchangeProperty(Job.PROPERTY) Job job,
                             @ExchangeProperty(Exchange.EXCEPTION_CAUGHT) Exception cause) {
        ObjectNode report = Json.MAPPER.createObjectNode();
        if (job == null) {
            return report;
        }
        FailureClass cls = FailureClass.PERMANENT;
        String reason;
        if (cause instanceof JobFailure jf) {
            cls = jf.failureClass();
            reason = jf.reason();
        } else {
            reason = "internal error: " + (cause == null ? "unknown" : cause.getClass().getSimpleName() + ": "
                    + cause.getMessage());
        }
        job.endClass = cls;
        job.endReason = redactor.redact(reason);
        if (job.key == null) {
            try {
                job.key = JobKey.of(job.inboxFile);
            } catch (IOException unreadable) {
                // A content that cannot be read has no job to record: the file only moves aside
            }
        }
        report.put("file", job.name);
        report.put("reason", job.endReason);
        report.put("class", cls.label());
        if (job.failureClass != null && job.failureClass != cls) {
            report.put("lastAttemptClass", job.failureClass.label());
        }
        report.put("attempts", job.attempt);
        if (job.outcome != null) {
            report.put("exitCode", job.outcome.exitCode());
            report.put("timedOut", job.outcome.timedOut());
            report.put("stdoutTail", redactor.redact(job.outcome.stdoutTail()));
            report.put("stderrTail", redactor.redact(job.outcome.stderrTail()));
        }
        if (job.sessionId != null) {
            report.put("sessionId", job.sessionId);
        }
        report.put("costUsd", job.costUsd);
        report.put("node", node.nodeId());
        report.put("failedAt", Instant.now().toString());
        if (job.key != null) {
            report.put("sha256", job.key.sha256());
        }
        String reportName = OutputNames.reportName(job.name);
        if (!reportName.equals(job.name + OutputNames.REPORT_SUFFIX)) {
            // NAME.error.json would pass the file system's limit on a name
            report.put("reportName", reportName);
        }
        return report;
    }

    /**
     * Fails the job for good: its report in failed/, the ledger row, then the input next to the report, in that
     * order, so that every input in failed/ has its row. A job whose result is published is never failed, and a store
     * or folder that cannot be written leaves the job waiting in the inbox instead.
     *
     * @param report the report, as JSON
     * @param cause  what ended the job
     */
    public void fail(@ExchangeProperty(Job.PROPERTY) Job job, @Body byte[] report,
                     @ExchangeProperty(Exchange.EXCEPTION_CAUGHT) Exception cause) {
        if (job == null) {
            LOG.error("a job failed before it was identified", cause);
            return;
        }
        if (job.published) {
            LOG.error("{}: its result is published; it stays in the inbox and ends as done when claimed again",
                    job.name, cause);
            release(job);
            job.ending = "waiting";
            return;
        }
        if (!(cause instanceof JobFailure)) {
            LOG.error("{}: internal error", job.name, cause);
        }
        if (job.endClass == null) {
            // A fail route without its report step
            try {
                report = Json.PRETTY.writeValueAsBytes(report(job, cause));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException("a report could not be written as JSON", e);
            }
        }
        FailureClass cls = job.endClass;
        String reason = job.endReason;
        // Whether the FAILED row is in: then the report stays, and the input follows it at the next claim
        boolean[] rowWritten = {false};
        try {
            if (job.jobId == 0) {
                if (job.key == null) {
                    if (!Files.exists(job.inboxFile)) {
                        LOG.debug("{}: gone from the inbox before it failed", job.name);
                        return;
                    }
                    // Its content cannot be read: there is no job to record, only the file to move aside
                    writeReport(job, report);
                    FolderFault.guard("sandflow.failed", config.folders().failed(),
                            () -> AtomicFiles.moveInto(job.inboxFile, config.folders().failed()));
                    job.ending = "failed";
                    job.failureReason = reason;
                    LOG.warn("{}: failed ({}) before it could be read: {}", job.name, cls.label(), reason);
                    return;
                }
                if (!claimForTheRecord(job)) {
                    return;
                }
            }
            writeReport(job, report);
            JobOutcome outcome = outcome(job, cls, reason);
            // One step with the move: between the input leaving the inbox and the row saying FAILED, a refresh
            // would find the job in neither
            boolean recorded = FolderFault.guard("sandflow.failed", config.folders().failed(),
                    () -> standing.ended(JobState.FAILED, () -> {
                        rowWritten[0] = node.store().fail(job.jobId, job.fenceToken, outcome);
                        // The entry itself: a link that was not followed moves as it is, even when it leads nowhere
                        if (rowWritten[0] && Files.exists(job.inboxFile, LinkOption.NOFOLLOW_LINKS)) {
                            AtomicFiles.moveInto(job.inboxFile, config.folders().failed());
                        }
                        return rowWritten[0];
                    }));
            if (!recorded) {
                // Another node took the job over meanwhile: its ending is that node's to write
                removeReport(job);
                job.ending = "lost";
                LOG.warn("{}: this node's claim was taken over by another node; not failed here", job.name);
                return;
            }
            job.stored = JobState.FAILED;
        } catch (StoreException e) {
            removeReport(job);
            waitFor(job, e, () -> surroundings.storeFailed(e));
            return;
        } catch (FolderFault e) {
            if (!rowWritten[0]) {
                removeReport(job);
                release(job);
            }
            waitFor(job, e, () -> surroundings.folderFailed(surroundings.folderProblem().orElse(e.getMessage())));
            return;
        }
        job.ending = "failed";
        job.failureReason = reason;
        String reportName = OutputNames.reportName(job.name);
        if (reportName.equals(job.name + OutputNames.REPORT_SUFFIX)) {
            LOG.warn("{}: failed ({}) after {} attempt(s): {}", job.name, cls.label(), job.attempt,
                    LogLines.clip(reason));
        } else {
            LOG.warn("{}: failed ({}) after {} attempt(s): {}; report: failed/{}", job.name, cls.label(), job.attempt,
                    LogLines.clip(reason), reportName);
        }
    }

    private void writeReport(Job job, byte[] report) {
        FolderFault.guard("sandflow.failed", config.folders().failed(), () -> {
            AtomicFiles.writeReplacing(reportPath(job), report);
            return null;
        });
    }

    /**
     * A job that failed before its claim gets its row now, so that its input is not in failed/ without one: true
     * when claimed, false when another node holds it (it is left alone).
     */
    private boolean claimForTheRecord(Job job) {
        JobStore.Claim claim = node.store().claim(job.key, node.nodeId(), config.store().lease());
        if (!claim.claimed()) {
            job.ending = "waiting";
            return false;
        }
        job.jobId = claim.jobId();
        job.fenceToken = claim.fenceToken();
        return true;
    }

    /** Error handling for a {@link StoreException}: the job waits in the inbox and intake waits for the store. */
    public void storeFault(@ExchangeProperty(Job.PROPERTY) Job job,
                           @ExchangeProperty(Exchange.EXCEPTION_CAUGHT) StoreException e) {
        waitFor(job, e, () -> surroundings.storeFailed(e));
    }

    /**
     * Error handling for a {@link FolderFault}: the job goes back to pending with its input in the inbox, and
     * intake waits until the folder can be written.
     */
    public void folderFault(@ExchangeProperty(Job.PROPERTY) Job job,
                            @ExchangeProperty(Exchange.EXCEPTION_CAUGHT) FolderFault e) {
        if (job != null && job.stored == null) {
            release(job);
        }
        waitFor(job, e, () -> surroundings.folderFailed(surroundings.folderProblem().orElse(e.getMessage())));
    }

    private void waitFor(Job job, RuntimeException e, Runnable hold) {
        hold.run();
        if (job != null) {
            job.ending = "waiting";
            LOG.info("{}: waits in the inbox: {}", job.name, e.getMessage());
        }
    }

    /** Gives the claim back, so that the job is pending again (the store may be down too: then its lease ends it). */
    private void release(Job job) {
        if (job.jobId == 0) {
            return;
        }
        try {
            node.store().release(job.jobId, job.fenceToken);
        } catch (StoreException e) {
            surroundings.storeFailed(e);
        }
    }

    private void removeReport(Job job) {
        try {
            Files.deleteIfExists(reportPath(job));
        } catch (IOException e) {
            LOG.debug("{}: cannot remove its report: {}", job.name, e.getMessage());
        }
    }

    /** Parks the job: the input stays in the inbox and the job stays pending until the cause clears. */
    public void park(@ExchangeProperty(Job.PROPERTY) Job job,
                     @ExchangeProperty(Exchange.EXCEPTION_CAUGHT) JobParkedException cause) {
        String reason = cause == null ? "parked" : redactor.redact(cause.getMessage());
        if (job != null && job.jobId != 0) {
            try {
                if (cause != null && cause.isShutdown()) {
                    node.store().release(job.jobId, job.fenceToken);
                } else {
                    node.store().park(job.jobId, job.fenceToken, reason);
                }
            } catch (StoreException e) {
                // Not recorded: the row stays RUNNING under this node, which takes it back at its next claim
                surroundings.storeFailed(e);
            }
        }
        if (job != null) {
            job.ending = "parked";
            if (cause != null && cause.isShutdown()) {
                LOG.info("{}: stopped by the shutdown; stays pending in the inbox", job.name);
            } else {
                LOG.info("{}: parked, stays in the inbox: {}", job.name, reason);
            }
        }
    }

    private Path reportPath(Job job) {
        return config.folders().failed().resolve(OutputNames.reportName(job.name));
    }

    /** Spend and tokens are not in it: each attempt's went to the store with the attempt (AttemptSteps). */
    private static JobOutcome outcome(Job job, FailureClass cls, String error) {
        return new JobOutcome(job.attempt, Duration.between(job.started, Instant.now()), java.math.BigDecimal.ZERO,
                0, 0, job.turns, job.sessionId, error, cls, job.outputName);
    }
}
