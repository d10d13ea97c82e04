package io.sandflow.flow;

import com.fasterxml.jackson.databind.JsonNode;
import io.sandflow.agent.Envelope;
import io.sandflow.job.FailureClass;
import io.sandflow.job.JobKey;
import io.sandflow.job.JobState;
import io.sandflow.process.ProcessOutcome;
import io.sandflow.process.ProcessSpec;
import io.sandflow.sandbox.Workspace;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Instant;

/**
 * The state of one job while it runs, carried on the exchange as a property. One exchange, one job: nothing here
 * is shared between threads.
 */
public final class Job {

    public static final String PROPERTY = "sandflowJob";

    final Path inboxFile;
    /** What to read: the inbox file itself, or the real path of the file a followed link leads to. */
    Path source;
    public final String name;
    public final Instant started = Instant.now();
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
    public JsonNode result;

    /** This claim's spend and tokens, for its progress line and report. */
    public BigDecimal costUsd = BigDecimal.ZERO;
    long inputTokens;
    long outputTokens;
    int turns;
    String sessionId;

    public FailureClass failureClass;
    String failureReason;
    /** How the job ended, for the progress line: ok, failed, parked, skipped; waiting while its surroundings fail. */
    public String ending;
    /** Its result is in the outbox: from then on the job can only end as done, never be moved to failed/. */
    boolean published;
    /** The ending this node wrote to the store, DONE or FAILED; null while none, or when its claim was stale. */
    public JobState stored;

    Job(Path inboxFile) {
        this.inboxFile = inboxFile;
        this.source = inboxFile;
        this.name = inboxFile.getFileName().toString();
    }

    Path outputPath() {
        return workspace.out().resolve(outputName);
    }
}
