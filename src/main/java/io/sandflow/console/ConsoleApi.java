package io.sandflow.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sandflow.job.JobState;
import io.sandflow.ops.FailedInputs;
import io.sandflow.ops.StatusReport;
import io.sandflow.report.Batch;
import io.sandflow.report.Export;
import io.sandflow.report.JobHistory;
import io.sandflow.report.ResultField;
import io.sandflow.report.ResultFiles;
import io.sandflow.report.Timeline;
import io.sandflow.result.OutputNames;
import io.sandflow.store.JobRecord;
import io.sandflow.store.JobStore;
import io.sandflow.store.StoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * What the web console's page asks for, as JSON: the live state ({@code status}'s own report plus what holds
 * intake), the chart, the failed jobs, the results with the chosen fields, one job with its runs, its report and its
 * result; and, only with {@code sandflow.http.actions=true} and the page's CSRF token, a retry of a failed job.
 * Plain Java: {@link ConsoleRoutes} carries requests here and the replies back.
 */
public final class ConsoleApi {

    private static final Logger LOG = LoggerFactory.getLogger("sandflow.console");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How often the store is read for the live state at most, however many pages poll it. */
    private static final Duration STATE_TTL = Duration.ofSeconds(1);
    /** Results listed at most; a filter narrows them on the page. */
    static final int MAX_RESULTS = 10_000;

    /** One cause that holds intake (the breaker, the store, a folder), why, and since when. */
    public record Hold(String cause, String reason, Instant since) {
    }

    /**
     * What the console reads from the running daemon.
     *
     * @param status  the report {@code sandflow status} prints, read now
     * @param holds   what holds intake now
     * @param store   the job store
     * @param fields  the result fields of the results list (sandflow.export.fields)
     * @param actions sandflow.http.actions: whether a POST may change anything
     * @param host    sandflow.http.host: on a loopback address, requests must name a loopback host
     */
    public record Source(Supplier<StatusReport> status, Supplier<List<Hold>> holds, Supplier<JobStore> store,
                         Path outbox, Path failed, Path inbox, List<ResultField> fields, boolean actions,
                         String nodeId, String host) {
    }

    private final Source source;
    private final Csrf csrf = new Csrf();
    private final ResultFiles outbox;
    private final ResultFiles failed;
    private final Export rows;
    private Instant stateAt = Instant.MIN;
    private Reply state;

    public ConsoleApi(Source source) {
        this.source = source;
        this.outbox = new ResultFiles(source.outbox());
        this.failed = new ResultFiles(source.failed());
        this.rows = new Export(source.fields());
    }

    Csrf csrf() {
        return csrf;
    }

    /**
     * Whether a request addressed to this host name may be answered. On a loopback address only loopback names are:
     * a page of another site whose name was made to point here (DNS rebinding) names its own host, and is turned
     * away.
     */
    public boolean hostAllowed(String requestedHost) {
        if (!loopback(source.host())) {
            return true;
        }
        return requestedHost != null && loopback(requestedHost);
    }

    private static boolean loopback(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        return h.equals("localhost") || h.startsWith("127.") || h.equals("::1") || h.equals("[::1]");
    }

    /** The live state: counts, pace, ETA, spend, tokens, breaker, nodes, causes (as `status --json`), the holds. */
    public synchronized Reply state() {
        Instant now = Instant.now();
        if (state != null && Duration.between(stateAt, now).compareTo(STATE_TTL) < 0) {
            return state;
        }
        state = guarded(() -> {
            StatusReport report = source.status().get();
            ObjectNode root = JSON.createObjectNode();
            root.set("status", JSON.readTree(report.json()));
            root.put("perMinute", report.store().doneLast10Minutes() / 10.0);
            ArrayNode holds = root.putArray("holds");
            for (Hold h : source.holds().get()) {
                holds.addObject().put("cause", h.cause()).put("reason", h.reason()).put("since", h.since().toString());
            }
            root.put("actions", source.actions());
            root.put("csrf", csrf.token());
            root.put("node", source.nodeId());
            ArrayNode fields = root.putArray("fields");
            source.fields().forEach(f -> fields.add(f.name()));
            root.put("at", report.store().now().toString());
            return root;
        });
        stateAt = now;
        return state;
    }

    /** Jobs finished and spend over time. */
    public Reply chart() {
        return guarded(() -> {
            JobStore store = source.store().get();
            List<JobRecord> jobs = store.jobs();
            Instant now = Instant.now();
            Timeline t = Timeline.of(jobs, store.attemptsEndedSince(Instant.EPOCH), now);
            ObjectNode root = JSON.createObjectNode();
            root.put("from", t.from().toString());
            root.put("bucketSeconds", t.bucket().toSeconds());
            ArrayNode buckets = root.putArray("buckets");
            for (Timeline.Bucket b : t.buckets()) {
                buckets.addObject().put("start", b.start().toString()).put("done", b.done()).put("failed", b.failed())
                        .put("spendUsd", b.spendUsd());
            }
            return root;
        });
    }

    /** The failed jobs, newest first: file, class, reason, runs. */
    public Reply failed() {
        return guarded(() -> {
            ObjectNode root = JSON.createObjectNode();
            ArrayNode jobs = root.putArray("jobs");
            List<JobRecord> all = source.store().get().jobs();
            for (int i = all.size() - 1; i >= 0; i--) {
                JobRecord j = all.get(i);
                if (j.state() == JobState.FAILED) {
                    ObjectNode o = jobs.addObject();
                    o.put("id", j.id());
                    o.put("file", j.name());
                    o.put("class", j.failureClass() == null ? null : j.failureClass().label());
                    o.put("reason", j.failureReason());
                    o.put("attempts", j.attempts());
                    o.put("finishedAt", j.finishedAt() == null ? null : j.finishedAt().toString());
                }
            }
            return root;
        });
    }

    /** The results in the outbox with the chosen fields, as export rows. */
    public Reply results() {
        return guarded(() -> {
            Batch batch = Batch.of(source.store().get().jobs(), outbox);
            ObjectNode root = JSON.createObjectNode();
            ArrayNode fields = root.putArray("fields");
            source.fields().forEach(f -> fields.add(f.name()));
            ArrayNode out = root.putArray("rows");
            long total = 0;
            for (Batch.Row row : batch.rows()) {
                if (!row.hasResult()) {
                    continue;
                }
                total++;
                if (out.size() < MAX_RESULTS) {
                    ObjectNode o = rows.object(row);
                    o.put("id", row.job().id());
                    out.add(o);
                }
            }
            root.put("total", total);
            return root;
        });
    }

    /** One job: its record and runs, its report when it failed, its result when done, and whether it may be retried. */
    public Reply job(String idText) {
        Optional<Long> id = id(idText);
        if (id.isEmpty()) {
            return Reply.error(400, "no such job: '" + idText + "'");
        }
        JobStore store;
        Optional<JobRecord> found;
        try {
            store = source.store().get();
            found = store.job(id.get());
        } catch (StoreException e) {
            return Reply.error(503, "the job store does not answer: " + e.getMessage());
        }
        if (found.isEmpty()) {
            return Reply.error(404, "no job " + id.get() + " in the store");
        }
        JobRecord j = found.get();
        return guarded(() -> {
            boolean done = j.state() == JobState.DONE && j.outputName() != null;
            JsonNode result = done ? outbox.read(j.outputName()).orElse(null) : null;
            String reportName = OutputNames.reportName(j.name());
            JsonNode report = j.state() == JobState.FAILED ? failed.read(reportName).orElse(null) : null;
            JobHistory history = new JobHistory(j, store.attempts(j.id()), result == null ? null : j.outputName(),
                    report == null ? null : reportName);
            ObjectNode root = JSON.createObjectNode();
            root.set("job", history.json());
            root.set("result", result);
            root.set("report", report);
            root.put("canRetry", source.actions() && j.state() == JobState.FAILED);
            return root;
        });
    }

    /**
     * Re-queues a failed job: forgets it and moves its input from failed/ back to the inbox, as {@code sandflow
     * retry-failed NAME} does. Refused (403) unless actions are on, the token is the page's and the request comes
     * from this server's own page ({@code origin}, when the browser sends one, is {@code self}).
     */
    public Reply retry(String idText, String token, String origin, String self) {
        if (!source.actions()) {
            return Reply.error(403, "the console is read-only: set sandflow.http.actions=true to retry from it");
        }
        if (!csrf.matches(token)) {
            return Reply.error(403, "refused: the request does not carry this page's token (reload the page)");
        }
        if (origin != null && !origin.equals(self)) {
            return Reply.error(403, "refused: the request comes from another site (" + origin + ")");
        }
        Optional<Long> id = id(idText);
        if (id.isEmpty()) {
            return Reply.error(400, "no such job: '" + idText + "'");
        }
        try {
            JobStore store = source.store().get();
            Optional<JobRecord> job = store.job(id.get());
            if (job.isEmpty() || job.get().state() != JobState.FAILED) {
                return Reply.error(409, "job " + id.get() + " is not a failed job (any more)");
            }
            String name = job.get().name();
            FailedInputs.Outcome done = new FailedInputs(store, source.failed(), source.inbox())
                    .retry(List.of(name), null);
            ObjectNode root = JSON.createObjectNode();
            root.put("file", name);
            if (!done.requeued().isEmpty()) {
                LOG.info("console: {} re-queued from failed/ to run again", name);
                root.put("requeued", true).put("message", name + " is back in the inbox and runs again");
                return Reply.json(200, root.toString());
            }
            root.put("requeued", false);
            if (!done.alreadyInInbox().isEmpty()) {
                root.put("message", name + " stays in failed/: a file of that name already waits in the inbox");
            } else if (!done.noInput().isEmpty()) {
                root.put("message", "the failed job of " + name + " is forgotten, but its input is not in failed/: "
                        + "drop it into the inbox to run it");
            } else {
                root.put("message", name + " was not found among the failed jobs");
            }
            return Reply.json(409, root.toString());
        } catch (StoreException e) {
            return Reply.error(503, "the job store does not answer: " + e.getMessage());
        } catch (IOException e) {
            return Reply.error(500, "cannot move the input back: " + e.getMessage());
        }
    }

    private static Optional<Long> id(String text) {
        try {
            return text == null ? Optional.empty() : Optional.of(Long.parseLong(text.strip()));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private interface Work {
        JsonNode build() throws IOException;
    }

    /** A reply built from the store; a store that does not answer is a 503 with the reason, for the page to show. */
    private static Reply guarded(Work work) {
        try {
            return Reply.json(200, work.build().toString());
        } catch (StoreException e) {
            return Reply.error(503, "the job store does not answer: " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            LOG.warn("console: {}", e.toString());
            return Reply.error(500, "the console could not read this: " + e.getMessage());
        }
    }
}
