package io.sandflow.flow;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.sandflow.agent.Envelope;
import io.sandflow.agent.EnvelopeParser;
import io.sandflow.agent.OutcomeClassifier;
import io.sandflow.agent.Redactor;
import io.sandflow.agent.Verdict;
import io.sandflow.config.SandflowConfig;
import io.sandflow.job.Durations;
import io.sandflow.job.FailureClass;
import io.sandflow.job.FailureScope;
import io.sandflow.job.JobBackoffException;
import io.sandflow.job.JobFailure;
import io.sandflow.job.JobParkedException;
import io.sandflow.job.JobRetryException;
import io.sandflow.process.ProcessOutcome;
import io.sandflow.process.ProcessSpec;
import io.sandflow.result.ResultExtractor;
import io.sandflow.store.StoreException;
import io.sandflow.store.AttemptOutcome;
import org.apache.camel.Body;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.component.jsonvalidator.JsonValidationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * One attempt of a job (bean {@code attempts}): build it, read what the agent returned, take the result out of it,
 * record it in the job's history, and judge a failed one. Failures are thrown inside the circuit breaker, which
 * counts only the service's (see {@link Breaker}); an unusable answer is thrown after it, since the API itself
 * worked. The judge's verdict is an exception the route's error handling acts on: {@link JobRetryException} runs the
 * attempt again, {@link JobBackoffException} frees the worker for a backoff, {@link JobParkedException} parks the
 * job, and a permanent {@link JobFailure} fails it.
 */
public final class AttemptSteps {

    private static final Logger LOG = LoggerFactory.getLogger("sandflow.attempt");

    private final SandflowConfig config;
    private final Node node;
    private final Breaker breaker;
    private final OutcomeClassifier classifier;
    private final Redactor redactor;
    private final ResultExtractor extractor;
    private final Shutdown shutdown;
    private final Backoffs backoffs;
    private final Surroundings surroundings;

    AttemptSteps(SandflowConfig config, Node node, Breaker breaker, OutcomeClassifier classifier, Redactor redactor,
                 Shutdown shutdown, Backoffs backoffs, Surroundings surroundings) {
        this.config = config;
        this.node = node;
        this.breaker = breaker;
        this.classifier = classifier;
        this.redactor = redactor;
        this.shutdown = shutdown;
        this.backoffs = backoffs;
        this.surroundings = surroundings;
        this.extractor = new ResultExtractor(file -> node.pool().readAgentFile(file, config.agent().maxOutputBytes()));
    }

    /**
     * Renders the prompt for the next attempt and builds the process to run.
     *
     * @return the prompt, the agent's stdin
     */
    public byte[] prepare(@ExchangeProperty(Job.PROPERTY) Job job) throws IOException {
        if (shutdown.isStopping()) {
            throw JobParkedException.shutdown();
        }
        job.attempt++;
        job.outcome = null;
        job.envelope = null;
        job.unusable = null;
        job.attemptCostUsd = BigDecimal.ZERO;
        job.attemptInputTokens = 0;
        job.attemptOutputTokens = 0;
        // The out/ folder is the agent's; it is re-made, never cleaned through a link it may have become
        job.workspace.clearOut();
        AgentCall call = AgentCall.of(config, job.workspace, job.name, job.stagedInput, job.text, job.json,
                job.attempt, job.previousError, job.outputName);
        byte[] stdin = call.prompt().getBytes(StandardCharsets.UTF_8);
        job.spec = new ProcessSpec(call.argv(), call.env(), job.workspace.root(), stdin, config.agent().timeout(),
                config.agent().maxOutputBytes(), 8 * 1024);
        node.store().attemptStarted(job.jobId, job.fenceToken, job.attempt, job.workspace.sandboxName());
        job.attemptOpen = true;
        LOG.debug("{}: attempt {} in worker {}", job.name, job.attempt, job.workspace.index());
        return stdin;
    }

    /**
     * Reads what the agent returned and throws the failures the breaker is to see: transient and systemic ones, each
     * marked as the service's or the input's (see {@link Breaker#judge}). A systemic failure opens the breaker at
     * once (until its reset time, when the agent named one). An answer the service gave, usable or not, is a success
     * for the breaker: an unusable one is kept for {@link #extract} to throw.
     */
    public void read(@ExchangeProperty(Job.PROPERTY) Job job, @Body AgentExec.Result result) {
        ProcessOutcome outcome = result.outcome();
        job.outcome = outcome;
        var sandbox = config.sandbox().sandbox();
        java.util.Optional<String> sandboxFailure = sandbox.failureOf(job.workspace, outcome);
        if (sandboxFailure.isPresent() && !shutdown.isStopping()) {
            node.pool().recordSandboxFailure(job.workspace, sandboxFailure.get());
            if (node.pool().isRetired(job.workspace)) {
                // The job holds this sandbox for life: park it so that its next lease picks a healthy one
                throw new JobParkedException(sandboxFailure.get() + "; the sandbox is retired, the job waits", null);
            }
            throw breaker.judge(job.jobId, new JobFailure(FailureClass.TRANSIENT, sandboxFailure.get(), null,
                    FailureScope.SERVICE, null));
        }
        node.pool().recordSuccess(job.workspace);
        if (outcome.stdoutTruncated()) {
            breaker.answered(job.jobId);
            job.unusable = new JobFailure(FailureClass.INVALID_OUTPUT, "the agent printed " + outcome.stdoutTotalBytes()
                    + " bytes, more than sandflow.agent.max-output=" + config.agent().maxOutputBytes());
            return;
        }
        Envelope envelope = EnvelopeParser.parse(outcome.stdoutText(), outcome.stderrTail(),
                config.agent().settings().claudeContract());
        job.envelope = envelope;
        account(job, envelope);
        Verdict verdict = classifier.classify(outcome.exitCode(), outcome.timedOut(), envelope);
        if (verdict.failureClass() == null) {
            breaker.answered(job.jobId);
            return;
        }
        if (shutdown.isStopping()) {
            throw JobParkedException.shutdown();
        }
        // The verdict may quote the agent's text, which may hold a secret
        String reason = redactor.redact(verdict.reason());
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
                job.unusable = failure;
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
     * Takes the result out of what the agent returned; an unusable answer, or one carrying a secret's value, is
     * invalid output.
     *
     * @return the result, for the schema check that follows
     */
    public JsonNode extract(@ExchangeProperty(Job.PROPERTY) Job job) {
        if (job.unusable != null) {
            throw job.unusable;
        }
        JsonNode result = extractor.extract(job.envelope, job.outputPath());
        // A result carrying a secret's value is refused; it never reaches the outbox
        redactor.secretIn(result).ifPresent(secret -> {
            throw new JobFailure(FailureClass.INVALID_OUTPUT, "the result contains the value of " + secret
                    + ", a secret; it is refused");
        });
        return result;
    }

    /** The cross-field rules (sandflow.result.rules), once the schema's own check has passed. */
    public void checkRules(@Body JsonNode result) {
        List<String> problems = config.results().validator().checkRules(result);
        if (!problems.isEmpty()) {
            throw invalid(problems);
        }
    }

    /** A valid result ends the attempt as a success in the job's history. */
    public void succeeded(@ExchangeProperty(Job.PROPERTY) Job job, @Body JsonNode result) {
        job.result = result;
        recordAttempt(job, null, false);
    }

    /**
     * Judges a failed attempt and says what it leads to by what it throws: another attempt with the problems fed back
     * (invalid output), a backoff that gives the worker back (transient), a parked job (the service is down for
     * everyone, or a systemic cause), or a permanent failure once the input's retries are used up. Only the input's
     * own failures, and the service's while the breaker stays closed, spend the input's retries.
     *
     * @param caught    what the attempt threw
     * @param candidate the result the schema check refused, when that was the failure
     */
    public void judge(@ExchangeProperty(Job.PROPERTY) Job job, @ExchangeProperty(Exchange.EXCEPTION_CAUGHT) Exception caught,
                      @Body Object candidate) {
        if (caught instanceof StoreException || caught instanceof FolderFault) {
            // Sandflow's own store or folders failed, not the attempt: the route's fault handling keeps the job waiting
            throw (RuntimeException) caught;
        }
        if (caught instanceof CallNotPermittedException) {
            // No agent ran: the attempt number goes back for the job's next run
            job.attemptOpen = false;
            job.attempt--;
            node.store().attemptStarted(job.jobId, job.fenceToken, job.attempt, job.workspace.sandboxName());
            throw new JobParkedException("the circuit breaker is open: " + breaker.reason(), breaker.openUntil());
        }
        if (caught instanceof JobParkedException parked) {
            recordAttempt(job, new JobFailure(FailureClass.SYSTEMIC, parked.getMessage()), false);
            throw parked;
        }
        JobFailure failure = failureOf(caught, candidate);
        // A reason may quote what the agent wrote; secrets are masked before the log, the store or a prompt
        failure = new JobFailure(failure.failureClass(), redactor.redact(failure.reason()), failure.retryNotBefore(),
                failure.scope(), failure.getCause());
        if (shutdown.isStopping()) {
            recordAttempt(job, failure, false);
            throw JobParkedException.shutdown();
        }
        job.failureClass = failure.failureClass();
        job.failureReason = failure.reason();
        switch (failure.failureClass()) {
            case TRANSIENT -> transientFailure(job, failure);
            case INVALID_OUTPUT -> {
                recordAttempt(job, failure, true);
                job.invalidFailures++;
                job.previousError = failure.reason();
                if (job.invalidFailures >= config.retry().maxInvalidAttempts()) {
                    LOG.warn(AttemptLog.failed(job, failure, "no retry left (sandflow.retry.max-invalid-attempts)"));
                    throw new JobFailure(FailureClass.PERMANENT, "the agent's answer was unusable " + job.invalidFailures
                            + " times (sandflow.retry.max-invalid-attempts); the last: " + failure.reason(), failure);
                }
                LOG.info(AttemptLog.failed(job, failure, "retrying with the problems fed back"));
                throw new JobRetryException(failure);
            }
            case SYSTEMIC -> {
                recordAttempt(job, failure, false);
                LOG.warn(AttemptLog.failed(job, failure, "the job is parked"));
                throw new JobParkedException(failure.reason(), failure.retryNotBefore());
            }
            default -> {
                recordAttempt(job, failure, false);
                LOG.warn(AttemptLog.failed(job, failure, "no retry for this class"));
                throw failure;
            }
        }
    }

    private void transientFailure(Job job, JobFailure failure) {
        if (failure.scope() == FailureScope.SERVICE && breaker.state() != CircuitBreaker.State.CLOSED) {
            // Down for everyone: the job waits for the breaker and keeps its retries
            recordAttempt(job, failure, false);
            throw new JobParkedException("the circuit breaker is open: " + breaker.reason(), breaker.openUntil());
        }
        recordAttempt(job, failure, true);
        job.transientFailures++;
        if (job.transientFailures >= config.retry().maxAttempts()) {
            LOG.warn(AttemptLog.failed(job, failure, "no retry left (sandflow.retry.max-attempts)"));
            throw new JobFailure(FailureClass.PERMANENT, "gave up after " + job.transientFailures
                    + " transient failures (sandflow.retry.max-attempts); the last: " + failure.reason(), failure);
        }
        Duration wait = config.retry().backoff(job.transientFailures);
        LOG.info(AttemptLog.failed(job, failure, "retrying in " + Durations.human(wait)));
        throw new JobBackoffException(failure, wait);
    }

    /** What an attempt's exception means: its own classification, a refused result, or an agent that would not run. */
    private JobFailure failureOf(Exception caught, Object candidate) {
        if (caught instanceof JobFailure jf) {
            return jf;
        }
        if (caught instanceof JsonValidationException && candidate instanceof JsonNode result) {
            // The whole list, schema and rules together, as the agent is to see it
            return invalid(config.results().validator().validate(result));
        }
        return new JobFailure(FailureClass.TRANSIENT, "the agent could not be run: " + caught.getMessage(), null,
                FailureScope.SERVICE, caught);
    }

    private static JobFailure invalid(List<String> problems) {
        return new JobFailure(FailureClass.INVALID_OUTPUT, "the result does not match the schema: "
                + String.join("; ", problems));
    }

    /**
     * A transient failure's backoff (the route's error handling, after {@link #judge}): the job goes back to pending
     * in the store, not to be claimed before its backoff ends; its input stays in the inbox and its worker takes other
     * jobs meanwhile.
     */
    public void backoff(@ExchangeProperty(Job.PROPERTY) Job job,
                        @ExchangeProperty(Exchange.EXCEPTION_CAUGHT) JobBackoffException backoff) {
        try {
            node.store().retryLater(job.jobId, job.fenceToken, backoff.waitFor(),
                    redactor.redact(backoff.failure().reason()));
        } catch (StoreException e) {
            // Thrown here, inside the route's error handling, no other handler would see it: intake waits for the
            // store, and the row stays RUNNING under this node, which takes it back at its next claim
            surroundings.storeFailed(e);
        }
        backoffs.waitFor(job.inboxFile, backoff.waitFor());
    }

    /** The attempt's row in the job's history, once: its outcome, cost and tokens, and whether it spent a retry. */
    private void recordAttempt(Job job, JobFailure failure, boolean countsAgainstRetries) {
        if (!job.attemptOpen) {
            return;
        }
        job.attemptOpen = false;
        ProcessOutcome o = job.outcome;
        node.store().recordAttempt(job.jobId, new AttemptOutcome(job.attempt, o == null ? Duration.ZERO : o.elapsed(),
                o == null ? null : o.exitCode(), o != null && o.timedOut(),
                failure == null ? null : failure.failureClass(),
                failure == null ? null : redactor.redact(failure.reason()), countsAgainstRetries, job.attemptCostUsd,
                job.attemptInputTokens, job.attemptOutputTokens, node.nodeId(), job.workspace.sandboxName()));
    }
}
