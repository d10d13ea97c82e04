package io.sandflow.report;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sandflow.job.Durations;
import io.sandflow.job.Json;
import io.sandflow.ops.Money;
import io.sandflow.store.AttemptRecord;
import io.sandflow.store.JobRecord;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * {@code sandflow show FILE}: one job with each of its agent runs (start, end, exit code, class, reason, cost,
 * tokens, node, sandbox), and where its result or report is.
 *
 * @param resultFile the result in the outbox, or null
 * @param reportFile the report in failed/, or null
 */
public record JobHistory(JobRecord job, List<AttemptRecord> attempts, String resultFile, String reportFile) {


    public JobHistory {
        attempts = List.copyOf(attempts);
    }

    public String text() {
        JobRecord j = job;
        StringBuilder out = new StringBuilder();
        line(out, "file", j.name());
        line(out, "content", "sha256 " + j.sha256());
        String state = Export.state(j);
        String cls = Export.failureClass(j);
        line(out, "state", state + (cls.isEmpty() ? "" : " (" + cls + ")"));
        if (!Export.reason(j).isEmpty()) {
            line(out, "reason", j.failureReason());
        }
        line(out, "runs", j.attempts() + " · cost " + Money.usd(j.costUsd()) + String.format(Locale.ROOT,
                " · tokens in %,d out %,d", j.inputTokens(), j.outputTokens()));
        line(out, "times", "first seen " + time(j.createdAt()) + " · last started " + time(j.startedAt())
                + " · finished " + time(j.finishedAt())
                + (j.durationMs() == null ? "" : " · took " + Durations.human(Duration.ofMillis(j.durationMs()))
                + " from its last start"));
        if (j.owner() != null) {
            line(out, "node", j.owner());
        }
        if (resultFile != null) {
            line(out, "result", resultFile);
        }
        if (reportFile != null) {
            line(out, "report", reportFile);
        }
        if (attempts.isEmpty()) {
            out.append("no agent run is recorded for this job").append(System.lineSeparator());
            return out.toString();
        }
        out.append("agent runs").append(System.lineSeparator());
        for (AttemptRecord a : attempts) {
            Duration took = Duration.between(a.startedAt(), a.endedAt());
            String how = a.failureClass() == null ? "ok" : a.failureClass().label();
            String exit = a.exitCode() == null ? "not started" : a.timedOut() ? "timed out" : "exit " + a.exitCode();
            out.append(String.format(Locale.ROOT, "  #%-3d %s  %-8s %-12s %-14s %s · tokens in %,d out %,d%n",
                    a.attempt(), a.startedAt(), Durations.human(took), exit, how, Money.usd(a.costUsd()),
                    a.inputTokens(), a.outputTokens()));
            out.append("       on ").append(a.node()).append(a.sandbox() == null ? "" : " in " + a.sandbox())
                    .append(System.lineSeparator());
            if (a.reason() != null && !a.reason().isBlank()) {
                out.append("       ").append(a.reason().replace("\n", "\n       ")).append(System.lineSeparator());
            }
        }
        return out.toString();
    }

    private static void line(StringBuilder out, String label, String value) {
        out.append(String.format(Locale.ROOT, "%-9s %s%n", label, value));
    }

    private static String time(Instant t) {
        return t == null ? "—" : t.toString();
    }

    public ObjectNode json() {
        JobRecord j = job;
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("id", j.id());
        o.put("file", j.name());
        o.put("sha256", j.sha256());
        o.put("state", Export.state(j));
        Json.putText(o, "class", Export.failureClass(j));
        Json.putText(o, "reason", Export.reason(j));
        Json.putText(o, "lastError", j.state() == io.sandflow.job.JobState.DONE ? null : j.lastError());
        o.put("attempts", j.attempts());
        o.put("costUsd", j.costUsd());
        o.put("tokensIn", j.inputTokens());
        o.put("tokensOut", j.outputTokens());
        Json.putText(o, "createdAt", j.createdAt() == null ? null : j.createdAt().toString());
        Json.putText(o, "startedAt", j.startedAt() == null ? null : j.startedAt().toString());
        Json.putText(o, "finishedAt", j.finishedAt() == null ? null : j.finishedAt().toString());
        if (j.durationMs() == null) {
            o.putNull("durationSeconds");
        } else {
            o.put("durationSeconds", j.durationMs() / 1000.0);
        }
        Json.putText(o, "node", j.owner());
        Json.putText(o, "resultFile", resultFile);
        Json.putText(o, "reportFile", reportFile);
        ArrayNode runs = o.putArray("runs");
        for (AttemptRecord a : attempts) {
            ObjectNode r = runs.addObject();
            r.put("attempt", a.attempt());
            r.put("startedAt", a.startedAt().toString());
            r.put("endedAt", a.endedAt().toString());
            r.put("seconds", Duration.between(a.startedAt(), a.endedAt()).toMillis() / 1000.0);
            if (a.exitCode() == null) {
                r.putNull("exitCode");
            } else {
                r.put("exitCode", a.exitCode());
            }
            r.put("timedOut", a.timedOut());
            Json.putText(r, "class", a.failureClass() == null ? null : a.failureClass().label());
            Json.putText(r, "reason", a.reason());
            r.put("costUsd", a.costUsd());
            r.put("tokensIn", a.inputTokens());
            r.put("tokensOut", a.outputTokens());
            Json.putText(r, "node", a.node());
            Json.putText(r, "sandbox", a.sandbox());
        }
        return o;
    }
}
