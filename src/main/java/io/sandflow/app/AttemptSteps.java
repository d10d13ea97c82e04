package io.sandflow.app;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.sandflow.agent.Envelope;
import io.sandflow.agent.EnvelopeParser;
import io.sandflow.agent.OutcomeClassifier;
import io.sandflow.agent.Verdict;
import io.sandflow.job.FailureClass;
import io.sandflow.job.JobFailure;
import io.sandflow.job.JobParkedException;
import io.sandflow.process.ProcessOutcome;
import io.sandflow.process.ProcessSpec;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;

/**
 * One attempt of a job (bean {@code attempts}): build it, read what the agent returned, and decide what a
 * failed attempt leads to. Transient and systemic failures are thrown inside the circuit breaker so that it
 * counts them; an unusable answer is thrown after it, since the API itself worked.
 */
public final class AttemptSteps {

    static final String AGAIN = "sandflowAgain";
    static final String BACKOFF = "sandflowBackoffMillis";
    private static final String PENDING_FAILURE = "sandflowPendingFailure";
    private static final Logger LOG = LoggerFactory.getLogger("sandflow.attempt");

    private final Engine engine;
    private final Breaker breaker;
    private final OutcomeClassifier classifier;

    AttemptSteps(Engine engine, Breaker breaker, OutcomeClassifier classifier) {
        this.engine = engine;
        this.breaker = breaker;
        this.classifier = classifier;
    }

    /** Renders the prompt for the next attempt and builds the process to run; the prompt becomes the body (stdin). */
    public void prepare(Exchange exchange) throws IOException {
        Job job = exchange.getProperty(Job.PROPERTY, Job.class);
        if (engine.stopping) {
            throw JobParkedException.shutdown();
        }
        checkBudget();
        job.attempt++;
        job.outcome = null;
        job.envelope = null;
        exchange.setProperty(AGAIN, false);
        exchange.setProperty(BACKOFF, 0L);
        exchange.removeProperty(PENDING_FAILURE);
        Files.deleteIfExists(job.outputPath());
        Engine.Attempt attempt = engine.attempt(job.workspace, job.name, job.stagedInput, job.text, job.json,
                job.attempt, job.previousError, job.outputName);
        byte[] stdin = attempt.prompt().getBytes(StandardCharsets.UTF_8);
        job.spec = new ProcessSpec(attempt.argv(), attempt.env(), job.workspace.root(), stdin, engine.agentTimeout,
                engine.maxOutputBytes, 8 * 1024);
        exchange.getIn().setBody(stdin);
        engine.store().attemptStarted(job.jobId, job.fenceToken, job.attempt, job.workspace.sandboxName());
        LOG.debug("{}: attempt {} in worker {}", job.name, job.attempt, job.workspace.index());
    }

    /** Once the run's total spend reaches the cap, every job waits: nothing more is spent until it is raised. */
    private void checkBudget() {
        if (engine.budgetCap.signum() > 0) {
            java.math.BigDecimal spent = engine.store().totalCostUsd();
            if (spent.compareTo(engine.budgetCap) >= 0) {
                String reason = "the total budget is spent: $" + spent + " of sandflow.budget.max-usd-total=$"
                        + engine.budgetCap;
                breaker.openUntil(null, reason);
                throw new JobParkedException(reason, null);
            }
        }
    }

    /**
     * Reads the envelope and throws the failures the breaker must count: transient and systemic ones.
     * A systemic failure opens the breaker at once (until its reset time, when the agent named one).
     */
    public void classify(Exchange exchange) {
        Job job = exchange.getProperty(Job.PROPERTY, Job.class);
        ProcessOutcome outcome = exchange.getIn().getBody(AgentExec.Result.class).outcome();
        job.outcome = outcome;
        java.util.Optional<String> sandboxFailure = engine.sandbox.failureOf(job.workspace, outcome);
        if (sandboxFailure.isPresent() && !engine.stopping) {
            engine.pool().recordSandboxFailure(job.workspace, sandboxFailure.get());
            if (engine.pool().isRetired(job.workspace)) {
                // The job holds this sandbox for life: park it so that its next lease picks a healthy one
                throw new JobParkedException(sandboxFailure.get() + "; the sandbox is retired, the job waits", null);
            }
            throw new JobFailure(FailureClass.TRANSIENT, sandboxFailure.get());
        }
        engine.pool().recordSuccess(job.workspace);
        if (outcome.stdoutTruncated()) {
            exchange.setProperty(PENDING_FAILURE, new JobFailure(FailureClass.INVALID_OUTPUT,
                    "the agent printed " + outcome.stdoutTotalBytes() + " bytes, more than sandflow.agent.max-output="
                            + engine.maxOutputBytes));
            return;
        }
        Envelope envelope = EnvelopeParser.parse(outcome.stdoutText(), outcome.stderrTail(),
                engine.agent.claudeContract());
        job.envelope = envelope;
        account(job, envelope);
        Verdict verdict = classifier.classify(outcome.exitCode(), outcome.timedOut(), envelope);
        if (verdict.failureClass() == null) {
            return;
        }
        if (engine.stopping) {
            throw JobParkedException.shutdown();
        }
        String reason = verdict.reason();
        if (outcome.timedOut()) {
            reason = "the agent ran longer than sandflow.agent.timeout=" + human(engine.agentTimeout)
                    + " and was killed with its process tree";
        }
        JobFailure failure = new JobFailure(verdict.failureClass(), reason, verdict.retryNotBefore(), null);
        switch (verdict.failureClass()) {
            case TRANSIENT -> throw failure;
            case SYSTEMIC -> {
                breaker.openUntil(verdict.retryNotBefore(), reason);
                throw failure;
            }
            default -> exchange.setProperty(PENDING_FAILURE, failure);
        }
    }

    private static void account(Job job, Envelope envelope) {
        if (envelope.totalCostUsd() != null) {
            job.costUsd = job.costUsd.add(envelope.totalCostUsd());
        }
        job.inputTokens += envelope.inputTokens();
        job.outputTokens += envelope.outputTokens();
        job.turns += envelope.numTurns();
        if (envelope.sessionId() != null) {
            job.sessionId = envelope.sessionId();
        }
    }

    /** Takes the result from what the agent returned and validates it; an unusable answer is invalid output. */
    public void extract(Exchange exchange) {
        Job job = exchange.getProperty(Job.PROPERTY, Job.class);
        JobFailure pending = exchange.getProperty(PENDING_FAILURE, JobFailure.class);
        if (pending != null) {
            throw pending;
        }
        var result = engine.extractor.extract(job.envelope, job.outputPath());
        List<String> problems = engine.validator.validate(result);
        if (!problems.isEmpty()) {
            throw new JobFailure(FailureClass.INVALID_OUTPUT,
                    "the result does not match the schema: " + String.join("; ", problems));
        }
        job.result = result;
    }

    /**
     * Decides what a failed attempt leads to: another attempt (after a backoff for transient failures, with the
     * problems fed back for invalid output), a parked job, or a permanent failure once retries are used up.
     */
    public void onFailure(Exchange exchange) {
        Job job = exchange.getProperty(Job.PROPERTY, Job.class);
        Exception caught = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        exchange.setProperty(AGAIN, false);
        if (engine.stopping) {
            throw JobParkedException.shutdown();
        }
        if (caught instanceof CallNotPermittedException) {
            throw new JobParkedException("the circuit breaker is open: " + breaker.reason(), breaker.openUntil());
        }
        if (caught instanceof JobParkedException parked) {
            throw parked;
        }
        JobFailure failure = caught instanceof JobFailure jf ? jf
                : new JobFailure(FailureClass.TRANSIENT, "the agent could not be run: " + caught.getMessage(), caught);
        job.failureClass = failure.failureClass();
        job.failureReason = failure.reason();
        switch (failure.failureClass()) {
            case TRANSIENT -> {
                job.transientFailures++;
                if (job.transientFailures >= engine.retry.maxAttempts()) {
                    LOG.warn(AttemptLog.failed(job, failure, "no retry left (sandflow.retry.max-attempts)"));
                    throw new JobFailure(FailureClass.PERMANENT, "gave up after " + job.transientFailures
                            + " transient failures (sandflow.retry.max-attempts); the last: " + failure.reason(), failure);
                }
                Duration wait = engine.retry.backoff(job.transientFailures);
                LOG.info(AttemptLog.failed(job, failure, "retrying in " + human(wait)));
                exchange.setProperty(BACKOFF, wait.toMillis());
                exchange.setProperty(AGAIN, true);
            }
            case INVALID_OUTPUT -> {
                job.invalidFailures++;
                job.previousError = failure.reason();
                if (job.invalidFailures >= engine.retry.maxInvalidAttempts()) {
                    LOG.warn(AttemptLog.failed(job, failure, "no retry left (sandflow.retry.max-invalid-attempts)"));
                    throw new JobFailure(FailureClass.PERMANENT, "the agent's answer was unusable " + job.invalidFailures
                            + " times (sandflow.retry.max-invalid-attempts); the last: " + failure.reason(), failure);
                }
                LOG.info(AttemptLog.failed(job, failure, "retrying with the problems fed back"));
                exchange.setProperty(AGAIN, true);
            }
            case SYSTEMIC -> {
                LOG.warn(AttemptLog.failed(job, failure, "the job is parked"));
                throw new JobParkedException(failure.reason(), failure.retryNotBefore());
            }
            case PERMANENT -> {
                LOG.warn(AttemptLog.failed(job, failure, "no retry for this class"));
                throw failure;
            }
        }
    }

    static String human(Duration d) {
        long s = d.toSeconds();
        if (s < 1) {
            return d.toMillis() + "ms";
        }
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return (s / 60) + "m" + (s % 60 == 0 ? "" : (s % 60) + "s");
        }
        return (s / 3600) + "h" + ((s % 3600) / 60) + "m";
    }
}
