package io.sandflow.observe;

import io.sandflow.cli.Sandflow;
import io.sandflow.flow.LogCapture;
import io.sandflow.flow.Workdir;
import io.sandflow.job.Json;
import com.fasterxml.jackson.databind.JsonNode;
import io.sandflow.store.JobStore;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code sandflow status} tells the truth: each job counted once in one state, the states summing to what the store
 * and the inbox hold; an ETA from this run's recent pace, and none while the queue is blocked; failure reasons grouped
 * by cause; amounts under a cent shown. The ledger is written as a run would leave it, with the database's clock.
 */
@Tag("process")
class StatusTruthTest {

    @TempDir
    Path dir;
    Workdir work;
    String url;

    @BeforeEach
    void setUp() throws IOException {
        work = new Workdir(dir);
        url = "jdbc:h2:" + dir.resolve("data/sandflow");
        JobStore.open(url, null, null).close();
    }

    private void sql(String... statements) throws Exception {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            for (String statement : statements) {
                s.execute(statement);
            }
        }
    }

    private static String job(String name, String state, String finishedSecondsAgo, String reason) {
        return "INSERT INTO sandflow_jobs (name, sha256, state, finished_at, failure_reason, last_error, "
                + "failure_class) VALUES ('" + name + "', '" + name.hashCode() + "', '" + state + "', "
                + (finishedSecondsAgo == null ? "NULL" : "DATEADD('SECOND', -" + finishedSecondsAgo
                + ", CURRENT_TIMESTAMP)") + ", " + (reason == null ? "NULL, NULL, NULL" : "'" + reason + "', '"
                + reason + "', 'PERMANENT'") + ")";
    }

    /** A node that started 13 s ago and is alive. */
    private static String node(String id, int reportedRunning, int startedSecondsAgo) {
        return "INSERT INTO sandflow_nodes (node_id, host, started_at, heartbeat_at, running_jobs) VALUES ('" + id
                + "', 'host', DATEADD('SECOND', -" + startedSecondsAgo + ", CURRENT_TIMESTAMP), CURRENT_TIMESTAMP, "
                + reportedRunning + ")";
    }

    private String status(String... extra) {
        List<String> args = new ArrayList<>(List.of("-C", dir.toString()));
        work.settings.forEach((k, v) -> args.add("-D" + k + "=" + v));
        args.add("status");
        args.addAll(List.of(extra));
        StringWriter out = new StringWriter();
        assertThat(Sandflow.execute(new PrintWriter(out), args.toArray(String[]::new))).isZero();
        return out.toString();
    }

    private JsonNode statusJson() throws IOException {
        return Json.MAPPER.readTree(status("--json"));
    }

    private static long sumOfStates(JsonNode json) {
        long sum = 0;
        for (String state : List.of("done", "failed", "parked", "running", "pending")) {
            sum += json.path("counts").path(state).asLong();
        }
        return sum;
    }

    @Test
    void inboxFilesNotYetClaimedArePendingAndTheStatesSumToTheTotal() throws Exception {
        sql(job("a.json", "DONE", "5", null), job("b.json", "RUNNING", null, null));
        work.ask("b.json", "success");
        for (String name : List.of("c.json", "d.json", "e.json", "f.json")) {
            work.ask(name, "success");
        }

        JsonNode json = statusJson();

        assertThat(json.path("counts").path("pending").asLong()).isEqualTo(4);
        assertThat(json.path("counts").path("running").asLong()).isEqualTo(1);
        assertThat(json.path("total").asLong()).isEqualTo(6).isEqualTo(sumOfStates(json));
        assertThat(status()).contains("6 total · done 1 · failed 0 · parked 0 · running 1 · pending 4");
    }

    @Test
    void aChangedInputCountsAsOneMoreDoneJobWithItsOwnResult() throws Exception {
        work.ask("a.json", "success");
        work.ask("b.json", "success");
        assertThat(work.runOnce()).isZero();
        // The same name with new content, while its result is still in the outbox: a new job, whose result
        // replaces the old one, which is kept in outbox/.previous/
        work.drop("a.json", "{\"standin\": \"success\", \"changed\": true}\n");
        assertThat(work.runOnce()).isZero();

        JsonNode json = statusJson();

        long results = work.names(work.outbox()).size() + work.names(work.outbox().resolve(".previous")).size();
        assertThat(json.path("counts").path("done").asLong()).isEqualTo(results).isEqualTo(3);
        assertThat(json.path("total").asLong()).isEqualTo(3).isEqualTo(sumOfStates(json));
    }

    @Test
    void theNodeLineCountsTheJobsTheStoreHasRunningThere() throws Exception {
        sql(node("node-1", 2, 60), job("a.json", "DONE", "5", null));

        JsonNode json = statusJson();

        assertThat(json.path("counts").path("running").asLong()).isZero();
        assertThat(json.path("nodes").get(0).path("runningJobs").asLong()).isZero();
        assertThat(status()).containsPattern("node +node-1 on host · running 0 ");
    }

    @Test
    void theEtaFollowsThisRunsPaceNotTheLastTenMinutes() throws Exception {
        sql(node("node-1", 2, 13), job("a.json", "DONE", "8", null), job("b.json", "DONE", "3", null),
                job("c.json", "DONE", "0", null));
        for (String name : List.of("d.json", "e.json", "f.json", "g.json")) {
            work.ask(name, "success");
        }

        JsonNode json = statusJson();

        // three jobs in 13 s, four to go: about 17 s (the last ten minutes' pace would say 13m20s)
        assertThat(json.path("etaSeconds").asLong()).isBetween(10L, 30L);
    }

    /** After `run --once` (or a SIGTERM) the node is shown stopped at once, not for a lease more, and so no ETA. */
    @Test
    void aNodeThatStoppedIsNotRunningAndThereIsNoEta() throws Exception {
        work.ask("a.json", "success");
        assertThat(work.runOnce()).isZero();
        work.ask("b.json", "success");

        JsonNode json = statusJson();

        assertThat(json.path("nodes")).singleElement().satisfies(n -> assertThat(n.path("alive").asBoolean()).isFalse());
        assertThat(json.path("etaSeconds").isNull()).isTrue();
        assertThat(status()).contains("(not running)").containsPattern("ETA none \\(no node is running\\)");
    }

    @Test
    void thereIsNoEtaWhileTheBudgetHasStoppedEverythingAndStatusSaysWhy() throws Exception {
        sql(node("node-1", 0, 60), job("a.json", "DONE", "8", null), job("b.json", "DONE", "3", null),
                "INSERT INTO sandflow_state (state_key, state_value) VALUES ('breaker', 'FORCED_OPEN: the total "
                        + "budget is spent: $5.01 of sandflow.budget.max-usd-total=$5')");
        work.ask("c.json", "success");

        JsonNode json = statusJson();

        assertThat(json.path("etaSeconds").isNull()).isTrue();
        assertThat(json.path("eta").asText()).contains("budget");
        assertThat(status()).containsPattern("ETA none \\(.*budget.*\\)");
    }

    @Test
    void thereIsNoEtaWhenEveryRemainingJobIsParked() throws Exception {
        sql(node("node-1", 0, 60), job("a.json", "DONE", "8", null), job("b.json", "DONE", "3", null),
                job("c.json", "PARKED", null, "the API refused the credentials (401)"));
        work.ask("c.json", "success");

        JsonNode json = statusJson();

        assertThat(json.path("etaSeconds").isNull()).isTrue();
        assertThat(json.path("eta").asText()).contains("parked");
    }

    @Test
    void failureReasonsThatDifferOnlyInTheirValuesAreOneGroup() throws Exception {
        sql(job("a.json", "FAILED", "9", "the result does not match the schema: /score = 150 falls in no band of "
                        + "/grade (high=50..100, low=0..49)"),
                job("b.json", "FAILED", "8", "the result does not match the schema: /score = 170 falls in no band "
                        + "of /grade (high=50..100, low=0..49)"),
                job("c.json", "FAILED", "7", "the API rejected the request (400): prompt is too long"));

        JsonNode top = statusJson().path("topFailures");

        assertThat(top).hasSize(2);
        assertThat(top.get(0).path("count").asLong()).isEqualTo(2);
        assertThat(top.get(0).path("files")).extracting(JsonNode::asText).containsExactly("a.json", "b.json");
        assertThat(top.get(0).path("reason").asText()).contains("falls in no band of /grade");
    }

    @Test
    void amountsUnderACentAreShownAsSuch() throws Exception {
        work.set("sandflow.agent.env.STANDIN_COST_USD", "0.002");
        work.ask("a.json", "success");
        java.util.List<LogCapture.Line> lines;
        try (LogCapture log = new LogCapture()) {
            assertThat(work.runOnce()).isZero();
            lines = log.lines();
        }

        assertThat(status()).contains("spend     $0.002 ");
        assertThat(lines).anySatisfy(l -> assertThat(l.message()).startsWith("[1/1] ok a.json").contains(" $0.002 "));
    }
}
