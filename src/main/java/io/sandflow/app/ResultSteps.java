package io.sandflow.app;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sandflow.agent.Redactor;
import io.sandflow.job.FailureClass;
import io.sandflow.job.JobFailure;
import io.sandflow.job.JobParkedException;
import io.sandflow.job.JobState;
import io.sandflow.result.AtomicFiles;
import io.sandflow.store.JobOutcome;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/**
 * The last steps of a job (bean {@code results}): publish a validated result, or fail the job with a report, or
 * park it. Outputs are written once and whole; a node that lost its claim writes nothing.
 */
public final class ResultSteps {

    private static final Logger LOG = LoggerFactory.getLogger("sandflow.results");

    private final Engine engine;
    private final Standing standing;
    private final Redactor redactor;

    ResultSteps(Engine engine, Standing standing, Redactor redactor) {
        this.engine = engine;
        this.standing = standing;
        this.redactor = redactor;
    }

    /** Writes the result to the outbox once, then records the job as done. */
    public void write(Exchange exchange) throws IOException {
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
        boolean written = AtomicFiles.writeOnce(target, engine.writer.render(job.result));
        if (!written) {
            LOG.warn("{}: {} appeared in the outbox meanwhile; kept the one already there", job.name, job.outputName);
        }
        Files.deleteIfExists(reportPath(job));
        // The row and the input's move to the archive in one step, as fail() does: a progress refresh never
        // finds the job DONE in the store with its input still counted in the inbox
        standing.ended(job, JobState.DONE, () -> {
            boolean recorded = engine.store().complete(job.jobId, job.fenceToken, outcome(job, null, null));
            if (recorded) {
                archiveInput(job);
            }
            return recorded;
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
     * Fails the job for good: a report next to the input in failed/, then the ledger row. Reached from the error
     * handling with the exception that ended the job.
     */
    public void fail(Exchange exchange) throws IOException {
        Job job = exchange.getProperty(Job.PROPERTY, Job.class);
        Exception cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        if (job == null) {
            LOG.error("a job failed before it was identified", cause);
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
        ObjectNode report = Jsons.MAPPER.createObjectNode();
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
        AtomicFiles.writeReplacing(reportPath(job), Jsons.MAPPER.writeValueAsBytes(report));
        JobOutcome outcome = outcome(job, cls, reason);
        // One step with the move: between the input leaving the inbox and the row saying FAILED, a refresh would
        // find the job in neither
        standing.ended(job, JobState.FAILED, () -> {
            if (Files.exists(job.inboxFile)) {
                AtomicFiles.moveInto(job.inboxFile, engine.failed);
            }
            return job.jobId != 0 && engine.store().fail(job.jobId, job.fenceToken, outcome);
        });
        job.ending = "failed";
        job.failureReason = reason;
        LOG.warn("{}: failed ({}) after {} attempt(s): {}", job.name, cls.label(), job.attempt,
                AttemptLog.clip(reason));
    }

    /** Parks the job: the input stays in the inbox and the job stays pending until the cause clears. */
    public void park(Exchange exchange) {
        Job job = exchange.getProperty(Job.PROPERTY, Job.class);
        JobParkedException cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, JobParkedException.class);
        String reason = cause == null ? "parked" : redactor.redact(cause.getMessage());
        if (job != null && job.jobId != 0) {
            if (cause != null && cause.isShutdown()) {
                engine.store().release(job.jobId, job.fenceToken);
            } else {
                engine.store().park(job.jobId, job.fenceToken, reason);
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
        return engine.failed.resolve(job.name + ".error.json");
    }

    private static JobOutcome outcome(Job job, FailureClass cls, String error) {
        return new JobOutcome(job.attempt, Duration.between(job.started, Instant.now()), job.costUsd,
                job.inputTokens, job.outputTokens, job.turns, job.sessionId, error, cls, job.outputName);
    }
}
