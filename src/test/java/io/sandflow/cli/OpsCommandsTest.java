package io.sandflow.cli;

import io.sandflow.flow.Workdir;
import io.sandflow.job.Json;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code status} and {@code retry-failed} over a working folder that a real {@code run --once} left behind. */
@Tag("process")
class OpsCommandsTest {

    @TempDir
    Path dir;
    Workdir work;

    @BeforeEach
    void setUp() throws IOException {
        work = new Workdir(dir);
        work.set("sandflow.agent.env.STANDIN_COST_USD", "0.25");
    }

    @Test
    void statusJsonCountsMatchARunWithKnownOutcomes() throws IOException {
        work.ask("a.json", "success");
        work.ask("b.json", "success");
        work.ask("c.json", "success");
        work.ask("rejected-1.json", "bad-request");
        work.ask("rejected-2.json", "bad-request");
        work.drop("empty.json", new byte[0]);
        assertThat(work.runOnce()).isEqualTo(1);

        Run status = sandflow("status", "--json");

        assertThat(status.code).isZero();
        JsonNode json = Json.MAPPER.readTree(status.out);
        JsonNode counts = json.path("counts");
        assertThat(counts.path("done").asLong()).isEqualTo(3);
        assertThat(counts.path("failed").asLong()).isEqualTo(3);
        assertThat(counts.path("pending").asLong() + counts.path("running").asLong()
                + counts.path("parked").asLong()).isZero();
        assertThat(json.path("total").asLong()).isEqualTo(6);
        assertThat(json.path("spendUsd").decimalValue()).isEqualByComparingTo("0.75");
        assertThat(json.path("tokens").path("in").asLong()).isEqualTo(3 * 1200);
        assertThat(json.path("tokens").path("out").asLong()).isEqualTo(3 * 80);
        assertThat(json.path("throughput").path("doneLast10Minutes").asLong()).isEqualTo(3);
        assertThat(json.path("etaSeconds").asLong()).isZero();
        assertThat(json.path("breaker").asText()).isEqualTo("CLOSED");
        JsonNode top = json.path("topFailures").get(0);
        assertThat(top.path("reason").asText()).contains("400");
        assertThat(top.path("count").asLong()).isEqualTo(2);
        assertThat(top.path("files")).extracting(JsonNode::asText)
                .containsExactlyInAnyOrder("rejected-1.json", "rejected-2.json");
    }

    @Test
    void statusTableNamesTheCountsAndTheFailures() throws IOException {
        work.ask("a.json", "success");
        work.ask("rejected.json", "bad-request");
        work.runOnce();

        Run status = sandflow("status");

        assertThat(status.out).contains("2 total · done 1 · failed 1").contains("breaker   CLOSED")
                .contains("rejected.json").contains("(400)");
    }

    @Test
    void retryFailedRerunsExactlyTheNamedFiles() throws IOException {
        for (String name : List.of("a.json", "b.json", "c.json")) {
            work.ask(name, "bad-request");
        }
        assertThat(work.runOnce()).isEqualTo(1);

        Run retry = sandflow("retry-failed", "b.json", "nope.json");

        assertThat(retry.code).as("a name was not found").isEqualTo(1);
        assertThat(retry.out).contains("re-queued b.json").contains("not found among the failed jobs: nope.json");
        assertThat(work.names(work.inbox())).containsExactly("b.json");
        assertThat(work.failed().resolve(".retried/b.json.error.json")).exists();
        assertThat(work.names(work.failed())).containsExactlyInAnyOrder("a.json", "a.json.error.json", "c.json",
                "c.json.error.json");

        assertThat(work.runOnce()).isEqualTo(1);

        assertThat(work.agentCalls("a.json")).isEqualTo(1);
        assertThat(work.agentCalls("b.json")).isEqualTo(2);
        assertThat(work.agentCalls("c.json")).isEqualTo(1);
        assertThat(work.failed().resolve("b.json.error.json")).exists();
    }

    @Test
    void retryFailedByReasonTakesOnlyThatKindOfFailure() throws IOException {
        work.ask("rejected.json", "bad-request");
        work.drop("empty-1.json", new byte[0]);
        work.drop("empty-2.json", new byte[0]);
        work.runOnce();

        Run retry = sandflow("retry-failed", "--reason", "INPUT IS EMPTY");

        assertThat(retry.code).isZero();
        assertThat(work.names(work.inbox())).containsExactly("empty-1.json", "empty-2.json");
        assertThat(work.names(work.failed())).containsExactlyInAnyOrder("rejected.json", "rejected.json.error.json");
        assertThat(work.ledger("empty-1.json")).isEmpty();
        assertThat(work.ledger("rejected.json")).hasSize(1);
    }

    @Test
    void retryFailedWithoutNamesTakesEveryFailedInput() throws IOException {
        work.ask("ok.json", "success");
        work.ask("rejected.json", "bad-request");
        work.drop("empty.json", new byte[0]);
        work.runOnce();

        Run retry = sandflow("retry-failed");

        assertThat(retry.out).contains("2 input(s) back in the inbox");
        assertThat(work.names(work.inbox())).containsExactly("empty.json", "rejected.json");
        assertThat(work.names(work.outbox())).containsExactly("ok.result.json");
    }

    @Test
    void statusInAFolderWithoutAStoreSaysSoAndCreatesNothing() throws IOException {
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.io.PrintStream original = System.err;
        Run status;
        System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            status = sandflow("status");
        } finally {
            System.setErr(original);
        }

        assertThat(status.code).isEqualTo(2);
        assertThat(status.out).isEmpty();
        assertThat(err.toString(java.nio.charset.StandardCharsets.UTF_8)).contains("no job store")
                .contains(dir.resolve("data").toString()).doesNotContain("\tat ");
        assertThat(dir.resolve("data")).doesNotExist();
    }

    private record Run(int code, String out) {
    }

    private Run sandflow(String... command) {
        List<String> args = new ArrayList<>(List.of("-C", dir.toString()));
        work.settings.forEach((k, v) -> args.add("-D" + k + "=" + v));
        args.addAll(List.of(command));
        StringWriter out = new StringWriter();
        int code = Sandflow.execute(new PrintWriter(out), args.toArray(String[]::new));
        return new Run(code, out.toString());
    }
}
