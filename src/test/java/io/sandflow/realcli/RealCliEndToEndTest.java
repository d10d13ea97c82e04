package io.sandflow.realcli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sandflow.demo.DemoAgent;
import io.sandflow.job.JobState;
import io.sandflow.realcli.ScriptedMessagesApi.Request;
import io.sandflow.store.JobRecord;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static io.sandflow.realcli.ScriptedMessagesApi.error;
import static io.sandflow.realcli.ScriptedMessagesApi.failFirst;
import static io.sandflow.realcli.ScriptedMessagesApi.structuredOutput;
import static io.sandflow.realcli.ScriptedMessagesApi.text;
import static io.sandflow.realcli.ScriptedMessagesApi.tool;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sandflow driving the real Claude Code CLI inside a real srt sandbox, over the project's Masader examples, with the
 * model replaced by a scripted Messages API on loopback. What the CLI does with the script (tool calls, retries,
 * structured output, its envelope) is the real thing; so is the sandbox the tools run in.
 */
@Tag("process")
class RealCliEndToEndTest {

    private static final String TINY = "tiny_sentiment_corpus.json";
    private static final String TINY_OUT = "tiny_sentiment_corpus_assessment.json";

    @TempDir
    Path dir;
    ScriptedMessagesApi api;
    RealCliWorkdir work;

    @BeforeAll
    static void tools() {
        RealCliWorkdir.requireTools();
    }

    @BeforeEach
    void setUp() throws IOException {
        api = new ScriptedMessagesApi();
        work = new RealCliWorkdir(dir, api);
    }

    @AfterEach
    void tearDown() throws IOException {
        api.close();
        // Goes to the surefire output file: when a test fails in CI, this is what the CLI sent and got back.
        for (Request r : api.requests()) {
            System.out.println("request " + r.method() + " " + r.path() + (r.isMessages()
                    ? " assistant-turns=" + r.assistantTurns() + " stream=" + r.body().path("stream").asBoolean(false)
                    + " session=" + r.header("X-Claude-Code-Session-Id") + " tools=" + r.toolNames()
                    + " tool-results=" + r.lastToolResults() : ""));
        }
        for (String report : work.names(work.failed())) {
            if (report.endsWith(".error.json")) {
                System.out.println("report " + report + ": " + Files.readString(work.failed().resolve(report)));
            }
        }
    }

    @Test
    void theSeedFlowReadsRunsBashInTheSandboxAndReturnsAValidatedAssessment() throws Exception {
        JsonNode metadata = RealCliWorkdir.example(TINY);
        ObjectNode assessment = DemoAgent.assess(metadata);
        Path escape = dir.resolve("written-from-the-sandbox");
        api.script(
                request -> tool("Read", Map.of("file_path", RealCliWorkdir.inputPathIn(request, TINY))),
                // Runs in the worker's workspace; the write outside it must be refused by srt, not by the CLI.
                request -> tool("Bash", Map.of("command", "sha256sum \"$SANDFLOW_INPUT\"; echo runtime=$SANDBOX_RUNTIME;"
                        + " pwd; touch '" + escape + "' || echo escape-refused")),
                structuredOutput(assessment),
                text("Done."));
        work.dropExample(TINY);

        assertThat(work.runOnce()).isZero();

        assertThat(work.json(work.outbox().resolve(TINY_OUT))).isEqualTo(assessment);
        assertThat(work.names(work.failed())).isEmpty();
        List<Request> calls = api.messageRequests();
        assertThat(calls).hasSize(3);
        assertThat(calls.get(0).toolNames()).as("the CLI accepted the schema").contains("StructuredOutput");
        assertThat(calls.get(1).lastToolResults()).singleElement().satisfies(r ->
                assertThat(r.toString()).contains(metadata.path("Name").asText()));
        String bash = calls.get(2).lastToolResults().get(0).toString();
        assertThat(bash).contains(sha256(RealCliWorkdir.EXAMPLES.resolve(TINY)))
                .contains("runtime=1")
                .contains(dir.resolve("work").resolve("worker-").toString())
                .contains("escape-refused");
        assertThat(escape).doesNotExist();

        JobRecord row = work.ledger(TINY).get(0);
        assertThat(row.state()).isEqualTo(JobState.DONE);
        assertThat(row.attempts()).isEqualTo(1);
        assertThat(row.costUsd()).isGreaterThan(BigDecimal.ZERO);
        assertThat(row.inputTokens()).isEqualTo(3L * ScriptedMessagesApi.INPUT_TOKENS);
        assertThat(row.outputTokens()).isEqualTo(3L * ScriptedMessagesApi.OUTPUT_TOKENS);
        assertThat(row.turns()).isGreaterThanOrEqualTo(3);
        assertThat(row.sessionId()).isNotBlank()
                .isEqualTo(calls.get(0).header("X-Claude-Code-Session-Id"));
    }

    @Test
    void a429IsRetriedBySandflowWhenTheCliMayNotRetry() throws Exception {
        ObjectNode assessment = DemoAgent.assess(RealCliWorkdir.example(TINY));
        api.script(failFirst(1, new ScriptedMessagesApi.HttpError(429, "rate_limit_error", "slow down", 1),
                structuredOutput(assessment)), text("Done."));
        work.dropExample(TINY);

        assertThat(work.runOnce()).isZero();

        assertThat(work.json(work.outbox().resolve(TINY_OUT))).isEqualTo(assessment);
        assertThat(api.messageRequests()).hasSize(2);
        assertThat(work.ledger(TINY).get(0).attempts()).as("cli-retries=0: Sandflow's second attempt").isEqualTo(2);
    }

    @Test
    void a429IsRetriedByTheCliWhenItMay() throws Exception {
        work.set("sandflow.agent.cli-retries", "1");
        ObjectNode assessment = DemoAgent.assess(RealCliWorkdir.example(TINY));
        api.script(failFirst(1, new ScriptedMessagesApi.HttpError(429, "rate_limit_error", "slow down", 1),
                structuredOutput(assessment)), text("Done."));
        work.dropExample(TINY);

        assertThat(work.runOnce()).isZero();

        assertThat(work.json(work.outbox().resolve(TINY_OUT))).isEqualTo(assessment);
        List<Request> calls = api.messageRequests();
        assertThat(calls).hasSize(2);
        assertThat(calls.get(1).header("X-Claude-Code-Session-Id")).as("the same run retried")
                .isEqualTo(calls.get(0).header("X-Claude-Code-Session-Id"));
        assertThat(work.ledger(TINY).get(0).attempts()).as("cli-retries=1: one attempt was enough").isEqualTo(1);
    }

    @Test
    void a401ParksTheJobsAndOpensTheBreakerWithNothingFailed() throws Exception {
        api.script(error(401, "authentication_error", "invalid x-api-key"));
        List<String> names = List.of(TINY, "gulf dialect tweets.json", "مدونة_الحوار.json");
        for (String name : names) {
            work.dropExample(name);
        }

        assertThat(work.runOnce()).as("still parked when run --once gives up").isEqualTo(3);

        assertThat(work.names(work.failed())).isEmpty();
        assertThat(work.names(work.outbox())).isEmpty();
        assertThat(work.names(work.inbox())).containsExactlyInAnyOrderElementsOf(names);
        assertThat(api.messageRequests()).as("the first 401 opens the breaker; at most the two in flight ran")
                .hasSizeBetween(1, 2);
        List<JobRecord> rows = names.stream().flatMap(n -> work.ledger(n).stream()).toList();
        assertThat(rows).allSatisfy(r -> assertThat(r.state()).isIn(JobState.PARKED, JobState.PENDING));
        assertThat(rows).anySatisfy(r -> assertThat(r.lastError()).contains("credentials").contains("401"));
    }

    @Test
    void anAnswerThatNeverMatchesIsRetriedWithTheErrorsThenFailsWithAReport() throws Exception {
        work.set("sandflow.retry.max-invalid-attempts", "2");
        // Every StructuredOutput call lacks the required keys: the CLI refuses each, then gives up on its own.
        api.script(structuredOutput(Map.of("الاسم", "مدونة")));
        work.dropExample(TINY);

        assertThat(work.runOnce()).isEqualTo(1);

        JsonNode report = work.report(TINY);
        assertThat(report.path("class").asText()).isEqualTo("permanent");
        assertThat(report.path("lastAttemptClass").asText()).isEqualTo("invalid-output");
        assertThat(report.path("attempts").asInt()).isEqualTo(2);
        assertThat(report.path("reason").asText()).contains("max-invalid-attempts").contains("schema");
        assertThat(work.failed().resolve(TINY)).exists();
        List<Request> firstTurns = api.messageRequests().stream().filter(r -> r.assistantTurns() == 0).toList();
        assertThat(firstTurns).as("one opening request per attempt").hasSize(2);
        // The masader prompt's retry section, and in it what was wrong with the first attempt
        assertThat(firstTurns.get(0).userText()).doesNotContain("رُفضت إجابتك");
        assertThat(firstTurns.get(1).userText()).contains("رُفضت إجابتك")
                .contains("the agent never produced output matching the schema");
    }

    @Test
    void reachingMaxTurnsIsInvalidOutput() throws Exception {
        work.set("sandflow.agent.max-turns", "2").set("sandflow.retry.max-invalid-attempts", "1");
        api.script(tool("Bash", Map.of("command", "true")));
        work.dropExample(TINY);

        assertThat(work.runOnce()).isEqualTo(1);

        JsonNode report = work.report(TINY);
        assertThat(report.path("lastAttemptClass").asText()).isEqualTo("invalid-output");
        assertThat(report.path("reason").asText()).contains("used up its turns").contains("maximum number of turns");
        assertThat(work.ledger(TINY).get(0).attempts()).isEqualTo(1);
    }

    @Test
    void twoWorkersRunTwoClisAtOnceEachWithItsOwnConfigDir() throws Exception {
        List<String> names = List.of("مدونة_الحوار.json", "it's $(not) a & shell.json");
        CountDownLatch together = new CountDownLatch(2);
        java.util.concurrent.atomic.AtomicBoolean ranApart = new java.util.concurrent.atomic.AtomicBoolean();
        api.script(
                request -> {
                    // Holds each CLI's first call until the other's has arrived too: proof they ran side by side.
                    together.countDown();
                    if (!awaitQuietly(together)) {
                        ranApart.set(true);
                    }
                    return tool("Read", Map.of("file_path", RealCliWorkdir.inputPathIn(request, nameIn(request, names))));
                },
                tool("Bash", Map.of("command", "echo config=$CLAUDE_CONFIG_DIR")),
                request -> structuredOutput(assessmentOf(nameIn(request, names))),
                text("Done."));
        for (String name : names) {
            work.dropExample(name);
        }

        assertThat(work.runOnce()).isZero();

        assertThat(ranApart).as("a CLI waited in vain for the other to start").isFalse();
        for (String name : names) {
            String out = name.substring(0, name.length() - ".json".length()) + "_assessment.json";
            assertThat(work.json(work.outbox().resolve(out))).isEqualTo(assessmentOf(name));
        }
        Set<String> sessions = names.stream().map(n -> work.ledger(n).get(0).sessionId()).collect(Collectors.toSet());
        assertThat(sessions).hasSize(2);
        // Each CLI was told its own worker's config dir, and kept its state there and only there.
        Set<String> told = api.messageRequests().stream().filter(r -> r.assistantTurns() == 2)
                .map(r -> r.lastToolResults().get(0).path("content").asText().strip()).collect(Collectors.toSet());
        assertThat(told).containsExactlyInAnyOrder("config=" + work.configDir(1), "config=" + work.configDir(2));
        for (int worker = 1; worker <= 2; worker++) {
            assertThat(work.configDir(worker).resolve(".claude.json")).exists();
        }
        Set<String> one = sessionDirs(work.configDir(1));
        Set<String> two = sessionDirs(work.configDir(2));
        assertThat(one).hasSize(1).doesNotContainAnyElementsOf(two);
        assertThat(two).hasSize(1);
        assertThat(union(one, two)).isEqualTo(sessions);
    }

    @Test
    void aBrokenStreamIsRecoveredByTheCliWithinTheAttempt() throws Exception {
        ObjectNode assessment = DemoAgent.assess(RealCliWorkdir.example(TINY));
        api.script(failFirst(1, new ScriptedMessagesApi.BrokenStream(), structuredOutput(assessment)), text("Done."));
        work.dropExample(TINY);

        assertThat(work.runOnce()).isZero();

        assertThat(work.json(work.outbox().resolve(TINY_OUT))).isEqualTo(assessment);
        List<Request> calls = api.messageRequests();
        assertThat(calls).hasSize(2);
        // The CLI itself recovers: it asks again without streaming, in the same run, and takes a plain Message.
        assertThat(calls.get(1).body().path("stream").asBoolean(false)).isFalse();
        assertThat(calls.get(1).header("X-Claude-Code-Session-Id"))
                .isEqualTo(calls.get(0).header("X-Claude-Code-Session-Id"));
        assertThat(work.ledger(TINY).get(0).attempts()).isEqualTo(1);
    }

    private static String nameIn(Request request, List<String> names) {
        String prompt = request.userText();
        return names.stream().filter(n -> prompt.contains("/input/" + n)).findFirst()
                .orElseThrow(() -> new AssertionError("the prompt names none of " + names));
    }

    private static ObjectNode assessmentOf(String name) {
        try {
            return DemoAgent.assess(RealCliWorkdir.example(name));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static boolean awaitQuietly(CountDownLatch latch) {
        try {
            return latch.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The CLI keeps a folder per session under its config dir. */
    private static Set<String> sessionDirs(Path configDir) throws IOException {
        Path dir = configDir.resolve("session-env");
        if (!Files.isDirectory(dir)) {
            return Set.of();
        }
        try (var list = Files.list(dir)) {
            return list.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new java.util.HashSet<>(a);
        all.addAll(b);
        return all;
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
