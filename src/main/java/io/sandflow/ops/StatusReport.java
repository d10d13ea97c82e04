package io.sandflow.ops;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sandflow.job.JobState;
import io.sandflow.store.NodeRecord;
import io.sandflow.store.StatusSnapshot;

import java.math.RoundingMode;
import java.time.Duration;
import java.util.Locale;

/**
 * What {@code sandflow status} shows: jobs by state, spend and tokens, throughput and ETA, the circuit breaker and
 * the most common failure reasons with the files they hit. Built from one store snapshot plus the inbox's size.
 */
public record StatusReport(StatusSnapshot store, long inboxFiles, String breaker, Duration took) {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Jobs still to finish: the store's unfinished ones, or the inbox when it holds files the store has not seen. */
    public long remaining() {
        long unfinished = store.count(JobState.PENDING) + store.count(JobState.RUNNING) + store.count(JobState.PARKED);
        return Math.max(inboxFiles, unfinished);
    }

    public long total() {
        return store.count(JobState.DONE) + store.count(JobState.FAILED) + remaining();
    }

    /** Jobs done per hour: the last ten minutes' pace when there is one (it follows change), else the last hour's. */
    public long perHour() {
        return store.doneLast10Minutes() > 0 ? store.doneLast10Minutes() * 6 : store.doneLastHour();
    }

    /** Time to finish at the current pace; null when nothing was done lately, zero when nothing remains. */
    public Duration eta() {
        if (remaining() == 0) {
            return Duration.ZERO;
        }
        long perHour = perHour();
        return perHour == 0 ? null : Duration.ofSeconds(Math.round(remaining() * 3600.0 / perHour));
    }

    public String json() {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode counts = root.putObject("counts");
        for (JobState s : JobState.values()) {
            counts.put(s.name().toLowerCase(Locale.ROOT), store.count(s));
        }
        root.put("total", total());
        root.put("remaining", remaining());
        root.put("inboxFiles", inboxFiles);
        root.put("spendUsd", store.totalCostUsd());
        ObjectNode tokens = root.putObject("tokens");
        tokens.put("in", store.inputTokens());
        tokens.put("out", store.outputTokens());
        ObjectNode rate = root.putObject("throughput");
        rate.put("doneLast10Minutes", store.doneLast10Minutes());
        rate.put("doneLastHour", store.doneLastHour());
        rate.put("perHour", perHour());
        Duration eta = eta();
        if (eta == null) {
            root.putNull("etaSeconds");
        } else {
            root.put("etaSeconds", eta.toSeconds());
        }
        root.put("eta", eta == null ? "?" : human(eta));
        root.put("breaker", breaker);
        ArrayNode reasons = root.putArray("topFailures");
        for (StatusSnapshot.FailureReason r : store.topReasons()) {
            ObjectNode o = reasons.addObject();
            o.put("state", r.state().name().toLowerCase(Locale.ROOT));
            o.put("reason", r.reason());
            o.put("count", r.count());
            ArrayNode files = o.putArray("files");
            r.sampleNames().forEach(files::add);
        }
        ArrayNode nodes = root.putArray("nodes");
        for (NodeRecord n : store.nodes()) {
            ObjectNode o = nodes.addObject();
            o.put("id", n.nodeId());
            o.put("host", n.host());
            o.put("runningJobs", n.runningJobs());
            o.put("heartbeatAgeSeconds", Duration.between(n.heartbeatAt(), store.now()).toSeconds());
        }
        root.put("readMillis", took.toMillis());
        try {
            return JSON.writeValueAsString(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public String text() {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "jobs      %d total · done %d · failed %d · parked %d · running %d · "
                        + "pending %d (inbox %d)%n", total(), store.count(JobState.DONE), store.count(JobState.FAILED),
                store.count(JobState.PARKED), store.count(JobState.RUNNING), store.count(JobState.PENDING),
                inboxFiles));
        out.append(String.format(Locale.ROOT, "spend     $%s · tokens in %,d out %,d%n",
                store.totalCostUsd().setScale(2, RoundingMode.HALF_UP), store.inputTokens(), store.outputTokens()));
        Duration eta = eta();
        out.append(String.format(Locale.ROOT, "pace      %d done in the last 10 min, %d in the last hour · %d/h · "
                        + "ETA %s%n", store.doneLast10Minutes(), store.doneLastHour(), perHour(),
                eta == null ? "? (nothing done lately)" : human(eta)));
        out.append("breaker   ").append(breaker).append(System.lineSeparator());
        for (NodeRecord n : store.nodes()) {
            out.append(String.format(Locale.ROOT, "node      %s on %s · running %d · heartbeat %s ago%n", n.nodeId(),
                    n.host(), n.runningJobs(), human(Duration.between(n.heartbeatAt(), store.now()))));
        }
        if (!store.topReasons().isEmpty()) {
            out.append("why jobs failed or wait").append(System.lineSeparator());
            for (StatusSnapshot.FailureReason r : store.topReasons()) {
                out.append(String.format(Locale.ROOT, "  %6d  %-6s  %s%n", r.count(),
                        r.state().name().toLowerCase(Locale.ROOT), r.reason()));
                if (!r.sampleNames().isEmpty()) {
                    out.append("                  ").append(String.join(", ", r.sampleNames()))
                            .append(r.count() > r.sampleNames().size() ? ", …" : "").append(System.lineSeparator());
                }
            }
        }
        out.append(String.format(Locale.ROOT, "(store read in %d ms)%n", took.toMillis()));
        return out.toString();
    }

    /** 3h10m, 2m13s, 45s: the same shape as the progress line's. */
    static String human(Duration d) {
        long s = Math.max(0, d.toSeconds());
        if (s >= 86_400) {
            return s / 86_400 + "d" + (s % 86_400) / 3600 + "h";
        }
        if (s >= 3600) {
            return s / 3600 + "h" + (s % 3600) / 60 + "m";
        }
        if (s >= 60) {
            return s / 60 + "m" + s % 60 + "s";
        }
        return s + "s";
    }
}
