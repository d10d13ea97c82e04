package io.sandflow.flow;

import io.sandflow.job.Durations;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.sandflow.agent.Envelope;
import io.sandflow.agent.EnvelopeParser;
import io.sandflow.agent.OutcomeClassifier;
import io.sandflow.agent.Redactor;
import io.sandflow.agent.Verdict;
import io.sandflow.job.FailureClass;
import io.sandflow.job.FailureScope;
import io.sandflow.job.JobBackoffException;
import io.sandflow.job.JobFailure;
import io.sandflow.job.JobParkedException;
import io.sandflow.process.ProcessOutcome;
import io.sandflow.process.ProcessSpec;
import io.sandflow.store.AttemptOutcome;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * One attempt of a job (bean {@code attempts}): build it, read what the agent returned, record it in the job's
 * history, and decide what a failed attempt leads to. Failures are thrown inside the circuit breaker, which counts
 * only the service's (see {@link Breaker}); an unusable answer is thrown after it, since the API itself worked.
 */
public final class AttemptSteps {

    static final String AGAIN = "sandflowAgain";
    private static final String PENDING_FAILURE = "sandflowPendingFailure";
    private static final Logger LOG = LoggerFactory.getLogger("sandflow.attempt");

    private final Engine engine;
    private final Breaker breaker;
    private final OutcomeClassifier classifier;
    private final Redactor redactor;
    private final Backoffs backoffs;

    AttemptSteps(Engine engine, Breaker breaker, OutcomeClassifier classifier, Redactor redactor, Backoffs backoffs) {
        this.engine = engine;
        this.breaker = breaker;
        this.classifier = classifier;
        this.redactor = redactor;
        this.backoffs = backoffs;
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
        job.attemptCostUsd = BigDecimal.ZERO;
        job.attemptInputTokens = 0;
        job.attemptOutputTokens = 0;
        exchange.setProperty(AGAIN, false);
        exchange.removeProperty(PENDING_FAILURE);
        // The out/ folder is the agent's; it is re-made, never cleaned through a link it may have become
        job.workspace.clearOut();
        Engine.Attempt attempt = engine.attempt(job.workspace, job.name, job.stagedInput, job.text, job.json,
                job.attempt, job.previousError, job.outputName);
        byte[] stdin = attempt.prompt().getBytes(StandardCharsets.UTF_8);
        job.spec = new ProcessSpec(attempt.argv(), attempt.env(), job.workspace.root(), stdin, engine.agentTimeout,
                engine.maxOutputBytes, 8 * 1024);
        exchange.getIn().setBody(stdin);
        engine.store().attemptStarted(job.jobId, job.fenceToken, job.attempt, job.workspace.sandboxName());
        job.attemptOpen = true;
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
     * Reads the envelope and throws the failures the breaker is to see: transient and systemic ones, each marked
     * as the service's or the input's (see {@link Breaker#judge}). A systemic failure opens the breaker at once
     * (until its reset time, when the agent named one). An answer the service gave, usable or not, is a success
     * for the breaker.
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
            throw breaker.judge(job.jobId, new JobFailure(FailureClass.TRANSIENT, sandboxFailure.get(), null,
                    FailureScope.SERVICE, null));
        }
        engine.pool().recordSuccess(job.workspace);
        if (outcome.stdoutTruncated()) {
            breaker.answered(job.jobId);
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
            breaker.answered(job.jobId);
            return;
        }
        if (engine.stopping) {
            throw JobParkedException.shutdown();
        }
        // The verdict may quote the agent's text, which may hold a secret
        String reason = engine.redactor.redact(verdict.reason());
        if (outcome.timedOut()) {
            reason = "the agent ran longer than sandflow.agent.timeout=" + Durations.human(engine.agentTimeout)
                    + " and was killed with its process tree";
        }
        JobFailure failure = new JobFailure(verdict.failureClass(), reason, verdict.retryNotBefore(), verdict.scope(),
                null);
        switch (verdict.failureClass()) {
            case TRANSIENT -> throw breaker.judge(job.jobId, failure);
            case SYSTEMIC -> {
                breaker.openUntil(verdict.retryNotBefore(), reason);
                throw failure;
            }
            default -> {
                breaker.answered(job.jobId);
                exchange.setProperty(PENDING_FAILURE, failure);
            }
        }
    }

    private static void account(Job job, Envelope envelope) {
        if (envelope.totalCostUsd() != null) {
            job.attemptCostUsd = envelope.totalCostUsd();
            job.costUsd = job.costUsd.add(envelope.totalCostUsd());
        }
        job.attemptInputTokens = envelope.inputTokens();
        job.attemptOutputTokens = envelope.outputTokens();
        job.inputTokens += envelope.inputTokens();
        job.outputTokens += envelope.outputTokens();
        job.turns += envelope.numTurns();
        if (envelope.sessionId() != null) {
            job.sessionId = envelope.sessionId();
        }
    }

    /**
     * Takes the result from what the agent returned and validates it; an unusable answer is invalid output. A
     * valid result ends the attempt as a success in the job's history.
     */
    public void extract(Exchange exchange) {
        Job job = exchange.getProperty(Job.PROPERTY, Job.class);
        JobFailure pending = exchange.getProperty(PENDING_FAILURE, JobFailure.class);
        if (pending != null) {
            throw pending;
        }
        var result = engine.extractor.extract(job.envelope, job.outputPath());
        // A result carrying a secret's value is refused; it never reaches the outbox
        engine.redactor.secretIn(result).ifPresent(secret -> {
            throw new JobFailure(FailureClass.INVALID_OUTPUT, "the result contains the value of " + secret
                    + ", a secret; it is refused");
        });
        List<String> problems = engine.validator.validate(result);
        if (!problems.isEmpty()) {
            throw new JobFailure(FailureClass.INVALID_OUTPUT,
                    "the result does not match the schema: " + String.join("; ", problems));
        }
        job.result = result;
        recordAttempt(job, null, false);
    }

    /**
     * Decides what a failed attempt leads to: another attempt with the problems fed back (invalid output), a
     * backoff that gives the worker back (transient), a parked job (the service is down for everyone, or a
     * systemic cause), or a permanent failure once the input's retries are used up. Only the input's own failures,
     * and the service's while the breaker stays closed, spend the input's retries.
     */
    public void onFailure(Exchange exchange) {
        Job job = exchange.getProperty(Job.PROPERTY, Job.class);
        Exception caught = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        exchange.setProperty(AGAIN, false);
        if (caught instanceof CallNotPermittedException) {
            // No agent ran: the attempt number goes back for the job's next run
            job.attemptOpen = false;
            job.attempt--;
            engine.store().attemptStarted(job.jobId, job.fenceToken, job.attempt, job.workspace.sandboxName());
            throw new JobParkedException("the circuit breaker is open: " + breaker.reason(), breaker.openUntil());
        }
        if (caught instanceof JobParkedException parked) {
            recordAttempt(job, new JobFailure(FailureClass.SYSTEMIC, parked.getMessage()), false);
            throw parked;
        }
        JobFailure failure = caught instanceof JobFailure jf ? jf
                : new JobFailure(FailureClass.TRANSIENT, "the agent could not be run: " + caught.getMessage(), null,
                FailureScope.SERVICE, caught);
        // A reason may quote what the agent wrote; secrets are masked before the log, the store or a prompt
        failure = new JobFailure(failure.failureClass(), engine.redactor.redact(failure.reason()),
                failure.retryNotBefore(), failure.scope(), failure.getCause());
        if (engine.stopping) {
            recordAttempt(job, failure, false);
            throw JobParkedException.shutdown();
        }
        job.failureClass = failure.failureClass();
        job.failureReason = failure.reason();
        switch (failure.failureClass()) {
            case TRANSIENT -> {
                if (failure.scope() == FailureScope.SERVICE && breaker.state() != CircuitBreaker.State.CLOSED) {
                    // Down for everyone: the job waits for the breaker and keeps its retries
                    recordAttempt(job, failure, false);
                    throw new JobParkedException("the circuit breaker is open: " + breaker.reason(),
                            breaker.openUntil());
                }
                recordAttempt(job, failure, true);
                job.transientFailures++;
                if (job.transientFailures >= engine.retry.maxAttempts()) {
                    LOG.warn(AttemptLog.failed(job, failure, "no retry left (sandflow.retry.max-attempts)"));
                    throw new JobFailure(FailureClass.PERMANENT, "gave up after " + job.transientFailures
                            + " transient failures (sandflow.retry.max-attempts); the last: " + failure.reason(), failure);
                }
                Duration wait = engine.retry.backoff(job.transientFailures);
                LOG.info(AttemptLog.failed(job, failure, "retrying in " + Durations.human(wait)));
                throw new JobBackoffException(failure, wait);
            }
            case INVALID_OUTPUT -> {
                recordAttempt(job, failure, true);
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
                recordAttempt(job, failure, false);
                LOG.warn(AttemptLog.failed(job, failure, "the job is parked"));
                throw new JobParkedException(failure.reason(), failure.retryNotBefore());
            }
            case PERMANENT -> {
                recordAttempt(job, failure, false);
                LOG.warn(AttemptLog.failed(job, failure, "no retry for this class"));
                throw failure;
            }
        }
    }

    /**
     * A transient failure's backoff (the route's error handling, after {@link #onFailure}): the job goes back to
     * pending in the store, not to be claimed before its backoff ends; its input stays in the inbox and its worker
     * takes other jobs meanwhile.
     */
    public void backoff(Exchange exchange) {
        Job job = exchange.getProperty(Job.PROPERTY, Job.class);
        JobBackoffException backoff = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, JobBackoffException.class);
        engine.store().retryLater(job.jobId, job.fenceToken, backoff.waitFor(),
                redactor.redact(backoff.failure().reason()));
        backoffs.waitFor(job.inboxFile, backoff.waitFor());
    }

    /** The attempt's row in the job's history, once: its outcome, cost and tokens, and whether it spent a retry. */
    private void recordAttempt(Job job, JobFailure failure, boolean countsAgainstRetries) {
        if (!job.attemptOpen) {
            return;
        }
        job.attemptOpen = false;
        ProcessOutcome o = job.outcome;
        engine.store().recordAttempt(job.jobId, new AttemptOutcome(job.attempt, o == null ? Duration.ZERO : o.elapsed(),
                o == null ? null : o.exitCode(), o != null && o.timedOut(),
                failure == null ? null : failure.failureClass(),
                failure == null ? null : redactor.redact(failure.reason()), countsAgainstRetries, job.attemptCostUsd,
                job.attemptInputTokens, job.attemptOutputTokens, engine.nodeId, job.workspace.sandboxName()));
    }
}
