package io.sandflow.ops;

import io.sandflow.job.Durations;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sandflow.job.JobState;
import io.sandflow.job.Json;
import io.sandflow.store.NodeRecord;
import io.sandflow.store.StatusSnapshot;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * What {@code sandflow status} shows: jobs by state, spend and tokens, pace and ETA, the circuit breaker, the nodes
 * and the most common causes of failure with the files they hit. Built from one store snapshot plus the inbox's size.
 *
 * <p>Each job is counted once, in one state, and the states add up to the total: the store's jobs (each file name
 * once) plus the inbox files the store does not know yet, which are pending. The ETA comes from this run's recent
 * pace ({@link Pace}); while the breaker holds the queue, or every remaining job is parked, or no node runs, there is
 * none, and the report says why.
 *
 * @param breaker the breaker's state as the nodes recorded it ("CLOSED", "OPEN until …: why")
 * @param lease   sandflow.cluster.lease: a node whose heartbeat is older than this is not running
 * @param top     how many failure causes to show
 */
public record StatusReport(StatusSnapshot store, long inboxFiles, String breaker, Duration took, Duration lease,
                           int top) {

    /** Sample file names shown per failure cause. */
    private static final int SAMPLES = 5;

    public long count(JobState state) {
        if (state == JobState.PENDING) {
            // Inbox files wait as jobs too: those the store holds are its pending, running or parked ones
            long known = store.count(JobState.PENDING) + store.count(JobState.RUNNING) + store.count(JobState.PARKED);
            return store.count(JobState.PENDING) + Math.max(0, inboxFiles - known);
        }
        return store.count(state);
    }

    /** Jobs still to finish: pending, running and parked. */
    public long remaining() {
        return count(JobState.PENDING) + count(JobState.RUNNING) + count(JobState.PARKED);
    }

    public long total() {
        return count(JobState.DONE) + count(JobState.FAILED) + remaining();
    }

    /** Jobs done per hour: the last ten minutes' pace when there is one (it follows change), else the last hour's. */
    public long perHour() {
        return store.doneLast10Minutes() > 0 ? store.doneLast10Minutes() * 6 : store.doneLastHour();
    }

    /** Nodes that did not stop cleanly and whose heartbeat is recent enough for them to be running. */
    public List<NodeRecord> liveNodes() {
        return store.nodes().stream().filter(this::alive).toList();
    }

    private boolean alive(NodeRecord n) {
        return n.stoppedAt() == null && Duration.between(n.heartbeatAt(), store.now()).compareTo(lease) <= 0;
    }

    /** Time to finish at this run's recent pace, or why there is no estimate. */
    public Pace.Eta eta() {
        long toRun = count(JobState.PENDING) + count(JobState.RUNNING);
        String blocked = null;
        if (remaining() > 0) {
            if (breaker != null && !breaker.isBlank() && !breaker.startsWith("CLOSED")) {
                blocked = "the circuit breaker is " + breaker;
            } else if (toRun == 0) {
                blocked = "every remaining job is parked";
            } else if (liveNodes().isEmpty()) {
                blocked = "no node is running";
            }
        }
        Instant runStart = liveNodes().stream().map(NodeRecord::startedAt).min(Instant::compareTo)
                .orElse(store.now());
        return Pace.eta(store.recentFinishes(), runStart, store.now(), toRun, blocked);
    }

    public List<FailureCauses.Cause> causes() {
        return FailureCauses.group(store.topReasons(), top, SAMPLES);
    }

    public String json() {
        ObjectNode root = Json.MAPPER.createObjectNode();
        ObjectNode counts = root.putObject("counts");
        for (JobState s : JobState.values()) {
            counts.put(s.name().toLowerCase(Locale.ROOT), count(s));
        }
        root.put("total", total());
        root.put("remaining", remaining());
        root.put("inboxFiles", inboxFiles);
        root.put("spendUsd", store.totalCostUsd());
        root.put("spend", Money.usd(store.totalCostUsd()));
        ObjectNode tokens = root.putObject("tokens");
        tokens.put("in", store.inputTokens());
        tokens.put("out", store.outputTokens());
        ObjectNode rate = root.putObject("throughput");
        rate.put("doneLast10Minutes", store.doneLast10Minutes());
        rate.put("doneLastHour", store.doneLastHour());
        rate.put("perHour", perHour());
        Pace.Eta eta = eta();
        if (eta.known()) {
            root.put("etaSeconds", eta.duration().toSeconds());
        } else {
            root.putNull("etaSeconds");
        }
        root.put("eta", eta.text());
        root.put("breaker", breaker);
        ArrayNode reasons = root.putArray("topFailures");
        for (FailureCauses.Cause c : causes()) {
            ObjectNode o = reasons.addObject();
            o.put("state", c.state().name().toLowerCase(Locale.ROOT));
            o.put("reason", c.reason());
            o.put("count", c.count());
            o.put("variants", c.variants());
            ArrayNode files = o.putArray("files");
            c.sampleNames().forEach(files::add);
        }
        ArrayNode nodes = root.putArray("nodes");
        for (NodeRecord n : store.nodes()) {
            ObjectNode o = nodes.addObject();
            o.put("id", n.nodeId());
            o.put("host", n.host());
            o.put("runningJobs", n.runningJobs());
            o.put("heartbeatAgeSeconds", Duration.between(n.heartbeatAt(), store.now()).toSeconds());
            o.put("alive", alive(n));
        }
        root.put("readMillis", took.toMillis());
        try {
            return Json.PRETTY.writeValueAsString(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public String text() {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "jobs      %d total · done %d · failed %d · parked %d · running %d · "
                        + "pending %d · %d file(s) in the inbox%n", total(), count(JobState.DONE),
                count(JobState.FAILED), count(JobState.PARKED), count(JobState.RUNNING), count(JobState.PENDING),
                inboxFiles));
        out.append(String.format(Locale.ROOT, "spend     %s · tokens in %,d out %,d%n", Money.usd(store.totalCostUsd()),
                store.inputTokens(), store.outputTokens()));
        out.append(String.format(Locale.ROOT, "pace      %d done in the last 10 min, %d in the last hour · %d/h at that pace · "
                + "ETA %s%n", store.doneLast10Minutes(), store.doneLastHour(), perHour(), eta().text()));
        out.append("breaker   ").append(breaker).append(System.lineSeparator());
        for (NodeRecord n : store.nodes()) {
            out.append(String.format(Locale.ROOT, "node      %s on %s · running %d · heartbeat %s ago%s%n", n.nodeId(),
                    n.host(), n.runningJobs(), Durations.human(Duration.between(n.heartbeatAt(), store.now())),
                    alive(n) ? "" : " (not running)"));
        }
        FailureCauses.appendText(out, causes());
        out.append(String.format(Locale.ROOT, "(store read in %d ms)%n", took.toMillis()));
        return out.toString();
    }

    /** Reads the status now: one store snapshot, the breaker as recorded, and the inputs waiting in the inbox. */
    public static StatusReport read(io.sandflow.store.JobStore store, io.sandflow.config.Settings settings,
                                    int topReasons) {
        long start = System.nanoTime();
        // Reasons are grouped by cause after reading, so read more wordings than causes are shown
        int top = Math.max(0, topReasons);
        var snapshot = store.status(top == 0 ? 0 : Math.max(100, top * 20));
        String breaker = store.getState("breaker").orElse("CLOSED");
        long inbox = countInbox(settings);
        return new StatusReport(snapshot, inbox, breaker, Duration.ofNanos(System.nanoTime() - start),
                settings.positiveDuration("sandflow.cluster.lease"), top);
    }

    /** Inputs waiting in the inbox: never a directory, FIFO, socket or device, which nothing will process. */
    private static long countInbox(io.sandflow.config.Settings settings) {
        java.nio.file.Path inbox = settings.path("sandflow.inbox");
        if (!java.nio.file.Files.isDirectory(inbox)) {
            return 0;
        }
        io.sandflow.inbox.FollowLinks follow;
        try {
            follow = io.sandflow.inbox.FollowLinks.parse(settings.get(io.sandflow.inbox.FollowLinks.SETTING));
        } catch (IllegalArgumentException e) {
            throw settings.invalid(io.sandflow.inbox.FollowLinks.SETTING, "must be inside, any or never");
        }
        return new io.sandflow.inbox.InboxEntries(inbox, settings.get("sandflow.include"), follow).countWaitingExactly();
    }
}
