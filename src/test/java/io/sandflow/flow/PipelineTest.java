package io.sandflow.flow;

import com.fasterxml.jackson.databind.JsonNode;
import io.sandflow.job.JobState;
import io.sandflow.store.JobRecord;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Runs the real routes and properties with the stand-in agent, as {@code run --once} does, and checks what a user
 * would look at: the outbox, failed/ with its reports, the archive, the ledger, and the exit code.
 */
@Tag("process")
class PipelineTest {

    @TempDir
    Path dir;
    Workdir work;

    @BeforeEach
    void setUp() throws IOException {
        work = new Workdir(dir);
    }

    @Test
    void resultsAreValidatedWrittenOnceAndInputsArchived() throws IOException {
        work.ask("alpha.json", "success");
        work.ask("write-file.json", "write-file");
        work.ask("fenced.json", "fenced");
        work.ask("عربي.json", "arabic");

        assertThat(work.runOnce()).isZero();

        assertThat(work.names(work.outbox())).containsExactlyInAnyOrder("alpha.result.json",
                "write-file.result.json", "fenced.result.json", "عربي.result.json");
        assertThat(work.names(work.archive())).containsExactlyInAnyOrder("alpha.json", "write-file.json",
                "fenced.json", "عربي.json");
        assertThat(work.names(work.inbox())).isEmpty();
        assertThat(work.names(work.failed())).isEmpty();
        JsonNode alpha = work.json(work.outbox().resolve("alpha.result.json"));
        assertThat(alpha.path("summary").asText()).contains("alpha.json");
        assertThat(alpha.path("tags").isArray()).isTrue();
        String arabic = Files.readString(work.outbox().resolve("عربي.result.json"), StandardCharsets.UTF_8);
        assertThat(arabic).doesNotContain("\\u").containsPattern("\\p{IsArabic}+");
        JobRecord row = work.ledger("alpha.json").get(0);
        assertThat(row.state()).isEqualTo(JobState.DONE);
        assertThat(row.attempts()).isEqualTo(1);
        assertThat(row.outputName()).isEqualTo("alpha.result.json");
        assertThat(row.finishedAt()).isNotNull();
        assertThat(work.agentCalls("alpha.json")).isEqualTo(1);
    }

    @Test
    void hostileFileNamesGoThroughIntactAndNothingIsExecuted() throws IOException {
        List<String> names = List.of("with space.json", "quote's \"double\".json", "$(touch pwned).json",
                "a & b; touch pwned2.json", "-leading-dash.json", "مدونة الحوار.json");
        for (String name : names) {
            work.ask(name, "success");
        }

        assertThat(work.runOnce()).isZero();

        for (String name : names) {
            String base = name.substring(0, name.length() - ".json".length());
            JsonNode result = work.json(work.outbox().resolve(base + ".result.json"));
            assertThat(result.path("summary").asText()).contains(name);
        }
        assertThat(work.names(work.archive())).containsExactlyInAnyOrderElementsOf(names);
        try (var walk = Files.walk(dir)) {
            assertThat(walk.map(p -> p.getFileName().toString())).noneMatch(n -> n.equals("pwned") || n.equals("pwned2"));
        }
    }

    @Test
    void badInputsFailAtOnceWithAReasonAndNeverReachTheAgent() throws IOException {
        work.set("sandflow.input.max-bytes", "200");
        work.drop("empty.json", new byte[0]);
        work.drop("large.json", "{\"pad\": \"" + "x".repeat(300) + "\"}");
        work.drop("latin1.json", new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xE9, '"', '}'});
        work.drop("broken.json", "{\"Name\": ");
        work.ask("fine.json", "success");

        assertThat(work.runOnce()).isEqualTo(1);

        assertThat(work.report("empty.json").path("reason").asText()).isEqualTo("the input is empty");
        assertThat(work.report("large.json").path("reason").asText()).contains("sandflow.input.max-bytes=200");
        assertThat(work.report("latin1.json").path("reason").asText()).contains("not valid UTF-8");
        assertThat(work.report("broken.json").path("reason").asText()).contains("not valid JSON");
        for (String name : List.of("empty.json", "large.json", "latin1.json", "broken.json")) {
            assertThat(work.report(name).path("class").asText()).isEqualTo("permanent");
            assertThat(work.agentCalls(name)).as(name).isZero();
            assertThat(work.failed().resolve(name)).exists();
            assertThat(work.ledger(name)).singleElement().extracting(JobRecord::state).isEqualTo(JobState.FAILED);
        }
        assertThat(work.names(work.outbox())).containsExactly("fine.result.json");
    }

    @Test
    void invalidOutputIsRetriedWithTheProblemsFedBack() throws IOException {
        work.ask("second-try.json", "invalid-then-ok");

        assertThat(work.runOnce()).isZero();

        assertThat(work.agentCalls("second-try.json")).isEqualTo(2);
        assertThat(work.prompt("second-try.json", 1)).doesNotContain("/summary");
        assertThat(work.prompt("second-try.json", 2)).contains("/summary");
        assertThat(work.ledger("second-try.json").get(0).attempts()).isEqualTo(2);
        assertThat(work.outbox().resolve("second-try.result.json")).exists();
    }

    @Test
    void outputThatNeverMatchesFailsAfterTheInvalidRetriesWithAReport() throws IOException {
        work.set("sandflow.retry.max-invalid-attempts", "3");
        work.ask("mismatch.json", "schema-mismatch");
        work.ask("prose.json", "no-structured-output");
        work.ask("turns.json", "max-turns");

        assertThat(work.runOnce()).isEqualTo(1);

        for (String name : List.of("mismatch.json", "prose.json", "turns.json")) {
            JsonNode report = work.report(name);
            assertThat(report.path("class").asText()).as(name).isEqualTo("permanent");
            assertThat(report.path("lastAttemptClass").asText()).as(name).isEqualTo("invalid-output");
            assertThat(report.path("attempts").asInt()).as(name).isEqualTo(3);
            assertThat(work.agentCalls(name)).as(name).isEqualTo(3);
        }
        assertThat(work.report("mismatch.json").path("reason").asText()).contains("/summary");
        assertThat(work.report("turns.json").path("reason").asText()).containsIgnoringCase("turns");
        assertThat(work.names(work.outbox())).isEmpty();
    }

    @Test
    void transientFailuresAreRetriedWithBackoffThenGiveUp() throws IOException {
        work.set("sandflow.retry.max-attempts", "4");
        work.ask("flaky.json", "flaky-2");
        work.ask("always-429.json", "rate-limit");
        work.ask("silent.json", "empty");

        assertThat(work.runOnce()).isEqualTo(1);

        assertThat(work.agentCalls("flaky.json")).isEqualTo(3);
        assertThat(work.outbox().resolve("flaky.result.json")).exists();
        assertThat(work.ledger("flaky.json").get(0).attempts()).isEqualTo(3);
        JsonNode limited = work.report("always-429.json");
        assertThat(limited.path("reason").asText()).contains("429").contains("max-attempts");
        assertThat(limited.path("lastAttemptClass").asText()).isEqualTo("transient");
        assertThat(limited.path("attempts").asInt()).isEqualTo(4);
        assertThat(limited.path("exitCode").asInt()).isEqualTo(1);
        assertThat(work.report("silent.json").path("reason").asText()).contains("empty output");
    }

    @Test
    void aRejectedRequestFailsAtOnce() throws IOException {
        work.ask("bad.json", "bad-request");

        assertThat(work.runOnce()).isEqualTo(1);

        assertThat(work.agentCalls("bad.json")).isEqualTo(1);
        assertThat(work.report("bad.json").path("reason").asText()).contains("400");
    }

    @Test
    void aSystemicFailureParksJobsInsteadOfFailingThem() throws IOException {
        work.set("sandflow.once.max-wait", "1s").set("sandflow.breaker.open-for", "30s");
        work.ask("a.json", "auth");
        work.ask("b.json", "auth");
        work.ask("c.json", "auth");

        assertThat(work.runOnce()).isEqualTo(3);

        assertThat(work.names(work.failed())).isEmpty();
        assertThat(work.names(work.outbox())).isEmpty();
        assertThat(work.names(work.inbox())).containsExactly("a.json", "b.json", "c.json");
        long calls = work.agentCalls("a.json") + work.agentCalls("b.json") + work.agentCalls("c.json");
        assertThat(calls).as("the breaker opens on the first 401; at most the two in flight ran").isBetween(1L, 2L);
        assertThat(work.ledger("a.json")).allSatisfy(r -> assertThat(r.state()).isIn(JobState.PARKED, JobState.PENDING));
    }

    @Test
    void aReDroppedUnchangedFileIsNotRunAgainButAChangedOneIs() throws IOException {
        work.drop("same.json", "{\"standin\": \"success\", \"v\": 1}");
        assertThat(work.runOnce()).isZero();
        Files.delete(work.outbox().resolve("same.result.json"));
        Files.delete(work.archive().resolve("same.json"));

        work.drop("same.json", "{\"standin\": \"success\", \"v\": 1}");
        assertThat(work.runOnce()).isZero();
        assertThat(work.agentCalls("same.json")).isEqualTo(1);
        assertThat(work.names(work.archive())).containsExactly("same.json");

        work.drop("same.json", "{\"standin\": \"success\", \"v\": 2}");
        assertThat(work.runOnce()).isZero();
        assertThat(work.agentCalls("same.json")).isEqualTo(2);
        assertThat(work.ledger("same.json")).hasSize(2);
    }

    @Test
    void anOutputAlreadyInTheOutboxMeansTheInputIsDone() throws IOException {
        Files.createDirectories(work.outbox());
        Files.writeString(work.outbox().resolve("done-before.result.json"), "{\"summary\": \"old\", \"tags\": []}");
        work.ask("done-before.json", "success");

        assertThat(work.runOnce()).isZero();

        assertThat(work.agentCalls("done-before.json")).isZero();
        assertThat(work.json(work.outbox().resolve("done-before.result.json")).path("summary").asText()).isEqualTo("old");
        assertThat(work.names(work.archive())).containsExactly("done-before.json");
        JobRecord row = work.ledger("done-before.json").get(0);
        assertThat(row.state()).isEqualTo(JobState.DONE);
        assertThat(row.attempts()).isZero();
        assertThat(row.finishedAt()).as("not run here, so no throughput for the ETA").isNull();
    }

    @Test
    void aHungAgentIsKilledWithItsWholeProcessTreeAtTheTimeout() throws IOException {
        work.set("sandflow.agent.timeout", "1s").set("sandflow.retry.max-attempts", "1");
        work.ask("stuck.json", "hang-with-child");

        assertThat(work.runOnce()).isEqualTo(1);

        JsonNode report = work.report("stuck.json");
        assertThat(report.path("reason").asText()).contains("sandflow.agent.timeout=1s");
        assertThat(report.path("timedOut").asBoolean()).isTrue();
        assertThat(work.recordedPids("stuck.json")).isNotEmpty().allSatisfy(pid ->
                await().atMost(Duration.ofSeconds(10)).until(() -> !Workdir.running(pid)));
    }

    @Test
    void aChildTheAgentLeavesBehindIsKilledAndTheResultStillArrives() throws IOException {
        work.ask("forker.json", "fork-child");

        assertThat(work.runOnce()).isZero();

        assertThat(work.outbox().resolve("forker.result.json")).exists();
        assertThat(work.recordedPids("forker.json")).isNotEmpty().allSatisfy(pid ->
                await().atMost(Duration.ofSeconds(10)).until(() -> !Workdir.running(pid)));
    }

    @Test
    void hugeOutputIsCappedAndReportedAsUnusable() throws IOException {
        work.set("sandflow.agent.max-output", "1048576").set("sandflow.retry.max-invalid-attempts", "1");
        work.ask("flood.json", "huge-output");

        assertThat(work.runOnce()).isEqualTo(1);

        JsonNode report = work.report("flood.json");
        assertThat(report.path("reason").asText()).contains("sandflow.agent.max-output=1048576");
        assertThat(report.path("stdoutTail").asText().length()).isLessThanOrEqualTo(8 * 1024);
    }
}
