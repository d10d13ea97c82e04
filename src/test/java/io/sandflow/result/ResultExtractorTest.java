package io.sandflow.result;

import com.fasterxml.jackson.databind.JsonNode;
import io.sandflow.agent.Envelope;
import io.sandflow.agent.EnvelopeParser;
import io.sandflow.job.FailureClass;
import io.sandflow.job.JobFailure;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ResultExtractorTest {

    @TempDir
    Path dir;

    private final ResultExtractor extractor = new ResultExtractor();

    private static Envelope envelope(String resultJsonString, String structured) {
        return EnvelopeParser.parse("""
                {"type":"result","subtype":"success","is_error":false,"num_turns":2,"result":%s,
                 "session_id":"s","total_cost_usd":0.02,"usage":{"input_tokens":5,"output_tokens":5}%s}
                """.formatted(resultJsonString, structured == null ? "" : ",\"structured_output\":" + structured));
    }

    private Path missingFile() {
        return dir.resolve("out.json");
    }

    @Test
    void prefersStructuredOutput() throws Exception {
        Files.writeString(missingFile(), "{\"from\":\"file\"}");
        JsonNode node = extractor.extract(envelope("\"{\\\"from\\\":\\\"text\\\"}\"", "{\"from\":\"structured\"}"),
                missingFile());
        assertThat(node.get("from").asText()).isEqualTo("structured");
    }

    @Test
    void readsTheWholeResultTextAsJson() {
        JsonNode node = extractor.extract(envelope("\"  {\\\"درجة_الجودة\\\": 85}\\n\"", null), missingFile());
        assertThat(node.get("درجة_الجودة").asInt()).isEqualTo(85);
    }

    @Test
    void readsAFencedBlockInTheResultText() {
        String text = "Here is the assessment:\n\n```json\n{\"تقدير_الجودة\": \"جيد\", \"note\": \"a } brace\"}\n```\n"
                + "Let me know {if} you need more.";
        JsonNode node = extractor.extract(envelope(quote(text), null), missingFile());
        assertThat(node.get("تقدير_الجودة").asText()).isEqualTo("جيد");
    }

    @Test
    void readsTheFirstObjectInProse() {
        String text = "Done. The result is {\"score\": 70, \"tags\": [\"a\"]} and that is all (see {x}).";
        JsonNode node = extractor.extract(envelope(quote(text), null), missingFile());
        assertThat(node.get("score").asInt()).isEqualTo(70);
    }

    @Test
    void fallsBackToTheFileTheAgentWrote() throws Exception {
        Files.write(missingFile(), "{\"ملخص\": \"بيانات جيدة\"}".getBytes(StandardCharsets.UTF_8));
        JsonNode node = extractor.extract(envelope(quote("I wrote the assessment to out.json."), null), missingFile());
        assertThat(node.get("ملخص").asText()).isEqualTo("بيانات جيدة");
    }

    @Test
    void nothingAnywhereIsInvalidOutputNamingThePath() {
        JobFailure failure = catchThrowableOfType(JobFailure.class,
                () -> extractor.extract(envelope(quote("I could not finish."), null), missingFile()));
        assertThat(failure.failureClass()).isEqualTo(FailureClass.INVALID_OUTPUT);
        assertThat(failure.reason()).isEqualTo("the agent returned no structured output and no JSON in its result "
                + "text, and wrote no file at $SANDFLOW_OUTPUT (" + missingFile() + ")");
    }

    @Test
    void anAbsentEnvelopeStillFallsBackToTheFile() throws Exception {
        Files.writeString(missingFile(), "{\"a\":1}");
        assertThat(extractor.extract(Envelope.absent("empty output"), missingFile()).get("a").asInt()).isEqualTo(1);
    }

    @Test
    void anArrayIsNotAResult() {
        JobFailure failure = catchThrowableOfType(JobFailure.class,
                () -> extractor.extract(envelope(quote("[1, 2, 3]"), "[{\"a\":1}]"), missingFile()));
        assertThat(failure.failureClass()).isEqualTo(FailureClass.INVALID_OUTPUT);
        assertThat(failure.reason()).contains("the structured output is a JSON array, not an object")
                .contains("the result text is a JSON array, not an object");
    }

    @Test
    void aBrokenFileIsInvalidOutputSayingWhy() throws Exception {
        Files.writeString(missingFile(), "{\"a\": ");
        assertThatThrownBy(() -> extractor.extract(envelope(quote("see file"), null), missingFile()))
                .isInstanceOfSatisfying(JobFailure.class, f -> {
                    assertThat(f.failureClass()).isEqualTo(FailureClass.INVALID_OUTPUT);
                    assertThat(f.reason()).startsWith("the file the agent wrote at " + missingFile()
                            + " is not valid JSON");
                });
    }

    @Test
    void aScalarFileIsNotAResult() throws Exception {
        Files.writeString(missingFile(), "42");
        assertThatThrownBy(() -> extractor.extract(envelope(quote("see file"), null), missingFile()))
                .isInstanceOfSatisfying(JobFailure.class, f -> assertThat(f.reason()).endsWith(
                        "holds a JSON number, not an object"));
    }

    private static String quote(String s) {
        return com.fasterxml.jackson.databind.node.TextNode.valueOf(s).toString();
    }

    @Test
    void theFileTheAgentWroteWinsOverJsonQuotedInItsText() throws Exception {
        Files.writeString(missingFile(), "{\"from\":\"file\"}");
        Envelope plain = EnvelopeParser.parse("reading...\n{\"progress\": 50}\ndone\n", "", false);

        assertThat(extractor.extract(plain, missingFile()).get("from").asText()).isEqualTo("file");
    }

    @Test
    void aPlainAgentsPrintedJsonIsItsResult() {
        Envelope plain = EnvelopeParser.parse("{\"summary\": \"s\", \"tags\": []}\n", "", false);

        assertThat(extractor.extract(plain, missingFile()).get("summary").asText()).isEqualTo("s");
    }

    @Test
    void aPlainAgentThatPrintedAndWroteNothingIsToldSo() {
        JobFailure failure = catchThrowableOfType(JobFailure.class,
                () -> extractor.extract(EnvelopeParser.parse("", "", false), missingFile()));

        assertThat(failure.failureClass()).isEqualTo(FailureClass.INVALID_OUTPUT);
        assertThat(failure.reason()).isEqualTo("the agent printed no JSON (nothing at all) and wrote no file at "
                + "$SANDFLOW_OUTPUT (" + missingFile() + ")");
    }
}
