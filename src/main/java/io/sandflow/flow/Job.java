package io.sandflow.flow;

import com.fasterxml.jackson.databind.JsonNode;
import io.sandflow.agent.Envelope;
import io.sandflow.job.FailureClass;
import io.sandflow.job.JobKey;
import io.sandflow.job.JobFailure;
import io.sandflow.job.JobState;
import io.sandflow.observe.JobEnding;
import io.sandflow.process.ProcessOutcome;
import io.sandflow.process.ProcessSpec;
import io.sandflow.sandbox.Workspace;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Instant;

/**
 * The state of one job while it runs, carried on the exchange as the property {@value #PROPERTY}. One exchange, one
 * job: nothing here is shared between threads.
 */
public final class Job implements JobEnding {

    public static final String PROPERTY = JobEnding.PROPERTY;

    final Path inboxFile;
    /** What to read: the inbox file itself, or the real path of the file a followed link leads to. */
    Path source;
    final String name;
    final Instant started = Instant.now();
    JobKey key;
    long jobId;
    long fenceToken;
    String outputName;
    /** The result in the outbox is replaced (a changed input, or a rerun), while it is the file seen at the claim. */
    boolean replacing;
    /** The identity of that file (AtomicFiles.fileKey), or null when the file system gives none. */
    Object replacedKey;
    String text;
    JsonNode json;
    Workspace workspace;
    Path stagedInput;

    /** Attempts, transient failures and unusable answers over all the job's claims (the store keeps them). */
    int attempt;
    int transientFailures;
    int invalidFailures;
    /** Set while an attempt has begun and its history row is not written yet. */
    boolean attemptOpen;
    /** The current attempt's spend and tokens, for its history row. */
    BigDecimal attemptCostUsd = BigDecimal.ZERO;
    long attemptInputTokens;
    long attemptOutputTokens;
    String previousError = "";
    ProcessSpec spec;
    ProcessOutcome outcome;
    Envelope envelope;
    JsonNode result;

    /** This claim's spend and tokens, for its progress line and report. */
    BigDecimal costUsd = BigDecimal.ZERO;
    long inputTokens;
    long outputTokens;
    int turns;
    String sessionId;

    FailureClass failureClass;
    String failureReason;
    /** How the job ended, for the progress line: ok, failed, parked, skipped; waiting while its surroundings fail. */
    String ending;
    /** Why a claimed job cannot run (a link that is not followed, a result name another input holds), or null. */
    String refusal;
    /** How long a job that is not due yet still waits out its backoff. */
    java.time.Duration dueIn;
    /** The failure that ends the job, once the fail route has worked it out: its class and reason. */
    FailureClass endClass;
    String endReason;
    /** The agent's last answer could not be used: what the next step throws once the breaker has counted the call. */
    JobFailure unusable;
    private boolean reported;
    /** Its result is in the outbox: from then on the job can only end as done, never be moved to failed/. */
    boolean published;
    /** The ending this node wrote to the store, DONE or FAILED; null while none, or when its claim was stale. */
    JobState stored;

    Job(Path inboxFile) {
        this.inboxFile = inboxFile;
        this.source = inboxFile;
        this.name = inboxFile.getFileName().toString();
    }

    Path outputPath() {
        return workspace.out().resolve(outputName);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String ending() {
        return ending;
    }

    @Override
    public Instant started() {
        return started;
    }

    @Override
    public BigDecimal costUsd() {
        return costUsd;
    }

    @Override
    public JobState stored() {
        return stored;
    }

    @Override
    public FailureClass lastFailureClass() {
        return failureClass;
    }

    @Override
    public boolean markReported() {
        if (reported) {
            return false;
        }
        reported = true;
        return true;
    }
}
