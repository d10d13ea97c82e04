package io.sandflow.flow;

import io.sandflow.inbox.InboxEntries;
import io.sandflow.observe.Standing;
import io.sandflow.job.Json;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sandflow.agent.Redactor;
import io.sandflow.job.FailureClass;
import io.sandflow.job.JobFailure;
import io.sandflow.job.JobParkedException;
import io.sandflow.job.JobState;
import io.sandflow.result.AtomicFiles;
import io.sandflow.result.OutputNames;
import io.sandflow.store.JobOutcome;
import io.sandflow.store.JobStore;
import io.sandflow.store.StoreException;
import org.apache.camel.Exchange;
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
 * park it. Outputs are written once and whole; a node that lost its claim writes nothing.
 */
public final class ResultSteps {

    private static final Logger LOG = LoggerFactory.getLogger("sandflow.results");
    /** Where a replaced result is kept, inside the outbox. */
    static final String PREVIOUS = ".previous";

    private final Engine engine;
    private final Standing standing;
    private final Redactor redactor;
    private final Surroundings surroundings;

    ResultSteps(Engine engine, Standing standing, Redactor redactor, Surroundings surroundings) {
        this.engine = engine;
        this.standing = standing;
        this.redactor = redactor;
        this.surroundings = surroundings;
    }

    /**
     * Writes the result to the outbox once, then records the job as done and archives its input. A folder that
     * cannot be written is a {@link FolderFault} and a store that fails a {@link StoreException}: both leave the
     * input in the inbox, and a result already published is taken as the job's end when it is claimed again.
     */
    public void write(Exchange exchange) {
        Job job = exchange.getProperty(Job.PROPERTY, Job.class);
        if (job.result == null) {
            throw new IllegalStateException(job.name + ": no validated result to publish");
        }
        if (!engine.store().isOwner(job.jobId, job.fenceToken)) {
            LOG.warn("{}: this node's claim was taken over by another node; its result is dropped", job.name);
            job.ending = "lost";
            exchange.setRouteStop(true);
            return;
        }
        Path target = engine.outbox.resolve(job.outputName);
        boolean written = FolderFault.guard("sandflow.outbox", engine.outbox, () -> {
            if (!job.replacing) {
                return AtomicFiles.writeOnce(target, engine.writer.render(job.result));
            }
            AtomicFiles.Replacement done = AtomicFiles.replace(target, engine.writer.render(job.result),
                    job.replacedKey, engine.outbox.resolve(PREVIOUS), Instant.now());
            if (done.kept() != null) {
                LOG.info("{}: replaced {}; the previous result is kept as outbox/{}/{}",
                        InboxEntries.display(job.name), job.outputName, PREVIOUS, done.kept().getFileName());
            }
            return done.published();
        });
        job.published = true;
        if (!written) {
            LOG.warn("{}: {} appeared in the outbox meanwhile; kept the one already there", job.name, job.outputName);
        }
        FolderFault.guard("sandflow.failed", engine.failed, () -> Files.deleteIfExists(reportPath(job)));
        // The row and the input's move to the archive in one step, as fail() does: a progress refresh never
        // finds the job DONE in the store with its input still counted in the inbox
        FolderFault.guard("sandflow.archive", engine.archive, () -> {
            standing.ended(job, JobState.DONE, () -> {
                boolean recorded = engine.store().complete(job.jobId, job.fenceToken, outcome(job, null, null));
                if (recorded) {
                    archiveInput(job);
                }
                return recorded;
            });
            return null;
        });
        job.ending = "ok";
    }

    /**
     * Moves the finished input to the archive if it is still in the inbox. {@link #write} does it already; this
     * step stays for routes copied into a working folder before the two were one.
     */
    public void archive(Exchange exchange) throws IOException {
        archiveInput(exchange.getProperty(Job.PROPERTY, Job.class));
    }

    private void archiveInput(Job job) throws IOException {
        try {
            AtomicFiles.moveInto(job.inboxFile, engine.archive);
        } catch (java.nio.file.NoSuchFileException gone) {
            // Already archived: by write(), or by another node that saw the job done
        }
    }

    /**
     * Fails the job for good: a report in failed/, the ledger row, then the input next to the report, in that
     * order, so that every input in failed/ has its row. Reached from the error handling with the exception that
     * ended the job. A job whose result is published is never failed, and a store or folder that cannot be written
     * leaves the job waiting in the inbox instead.
     */
    public void fail(Exchange exchange) {
        Job job = exchange.getProperty(Job.PROPERTY, Job.class);
        Exception cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
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
        FailureClass cls = FailureClass.PERMANENT;
        String reason;
        if (cause instanceof JobFailure jf) {
            cls = jf.failureClass();
            reason = jf.reason();
        } else {
            reason = "internal error: " + (cause == null ? "unknown" : cause.getClass().getSimpleName() + ": "
                    + cause.getMessage());
            LOG.error("{}: internal error", job.name, cause);
        }
        reason = redactor.redact(reason);
        // Whether the FAILED row is in: then the report stays, and the input follows it at the next claim
        boolean[] rowWritten = {false};
        try {
            if (job.jobId == 0) {
                Boolean claimed = claimForTheRecord(job);
                if (claimed == null) {
                    if (!Files.exists(job.inboxFile)) {
                        LOG.debug("{}: gone from the inbox before it failed", job.name);
                        return;
                    }
                    // Its content cannot be read: there is no job to record, only the file to move aside
                    writeReport(job, cls, reason);
                    FolderFault.guard("sandflow.failed", engine.failed, () -> AtomicFiles.moveInto(job.inboxFile,
                            engine.failed));
                    job.ending = "failed";
                    job.failureReason = reason;
                    LOG.warn("{}: failed ({}) before it could be read: {}", job.name, cls.label(), reason);
                    return;
                }
                if (!claimed) {
                    return;
                }
            }
            writeReport(job, cls, reason);
            JobOutcome outcome = outcome(job, cls, reason);
            // One step with the move: between the input leaving the inbox and the row saying FAILED, a refresh
            // would find the job in neither
            FolderFault.guard("sandflow.failed", engine.failed, () -> {
                standing.ended(job, JobState.FAILED, () -> {
                    boolean recorded = engine.store().fail(job.jobId, job.fenceToken, outcome);
                    rowWritten[0] = recorded;
                    // the entry itself: a link that was not followed moves as it is, even when it leads nowhere
                    if (recorded && Files.exists(job.inboxFile, LinkOption.NOFOLLOW_LINKS)) {
                        AtomicFiles.moveInto(job.inboxFile, engine.failed);
                    }
                    return recorded;
                });
                return null;
            });
            if (job.stored == null) {
                // Another node took the job over meanwhile: its ending is that node's to write
                removeReport(job);
                job.ending = "lost";
                LOG.warn("{}: this node's claim was taken over by another node; not failed here", job.name);
                return;
            }
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
                    AttemptLog.clip(reason));
        } else {
            LOG.warn("{}: failed ({}) after {} attempt(s): {}; report: failed/{}", job.name, cls.label(), job.attempt,
                    AttemptLog.clip(reason), reportName);
        }
    }

    private void writeReport(Job job, FailureClass cls, String reason) {
        ObjectNode report = Json.MAPPER.createObjectNode();
        report.put("file", job.name);
        report.put("reason", reason);
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
        report.put("node", engine.nodeId);
        report.put("failedAt", Instant.now().toString());
        if (job.key != null) {
            report.put("sha256", job.key.sha256());
        }
        String reportName = OutputNames.reportName(job.name);
        if (!reportName.equals(job.name + OutputNames.REPORT_SUFFIX)) {
            // NAME.error.json would pass the file system's limit on a name
            report.put("reportName", reportName);
        }
        FolderFault.guard("sandflow.failed", engine.failed, () -> {
            AtomicFiles.writeReplacing(reportPath(job), Json.PRETTY.writeValueAsBytes(report));
            return null;
        });
    }

    /**
     * A job that failed before its claim gets its row now, so that its input is not in failed/ without one: true
     * when claimed, false when another node holds it (it is left alone), null when its content cannot be read.
     */
    private Boolean claimForTheRecord(Job job) {
        if (job.key == null) {
            try {
                job.key = io.sandflow.job.JobKey.of(job.inboxFile);
            } catch (IOException e) {
                return null;
            }
        }
        JobStore.Claim claim = engine.store().claim(job.key, engine.nodeId, engine.lease);
        if (!claim.claimed()) {
            job.ending = "waiting";
            return false;
        }
        job.jobId = claim.jobId();
        job.fenceToken = claim.fenceToken();
        return true;
    }

    /** Error handling for a {@link StoreException}: the job waits in the inbox and intake waits for the store. */
    public void storeFault(Exchange exchange) {
        Job job = exchange.getProperty(Job.PROPERTY, Job.class);
        StoreException e = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, StoreException.class);
        waitFor(job, e, () -> surroundings.storeFailed(e));
    }

    /**
     * Error handling for a {@link FolderFault}: the job goes back to pending with its input in the inbox, and
     * intake waits until the folder can be written.
     */
    public void folderFault(Exchange exchange) {
        Job job = exchange.getProperty(Job.PROPERTY, Job.class);
        FolderFault e = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, FolderFault.class);
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
            engine.store().release(job.jobId, job.fenceToken);
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
    public void park(Exchange exchange) {
        Job job = exchange.getProperty(Job.PROPERTY, Job.class);
        JobParkedException cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, JobParkedException.class);
        String reason = cause == null ? "parked" : redactor.redact(cause.getMessage());
        if (job != null && job.jobId != 0) {
            try {
                if (cause != null && cause.isShutdown()) {
                    engine.store().release(job.jobId, job.fenceToken);
                } else {
                    engine.store().park(job.jobId, job.fenceToken, reason);
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
        return engine.failed.resolve(OutputNames.reportName(job.name));
    }

    /** Spend and tokens are not in it: each attempt's went to the store with the attempt (AttemptSteps). */
    private static JobOutcome outcome(Job job, FailureClass cls, String error) {
        return new JobOutcome(job.attempt, Duration.between(job.started, Instant.now()), java.math.BigDecimal.ZERO,
                0, 0, job.turns, job.sessionId, error, cls, job.outputName);
    }
}
