package io.sandflow.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class DemoAgentTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path EXAMPLES = Path.of("examples/masader");
    private static JsonSchema schema;

    @TempDir
    Path dir;

    @BeforeAll
    static void loadSchema() throws IOException {
        JsonNode schemaNode = JSON.readTree(Path.of("schemas/masader-assessment.schema.json").toFile());
        schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(schemaNode);
    }

    static Stream<Path> examples() throws IOException {
        try (Stream<Path> files = Files.list(EXAMPLES)) {
            List<Path> list = files.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().toList();
            assertThat(list).hasSize(5);
            return list.stream();
        }
    }

    static String bandOf(int score) {
        return score >= 80 ? "ممتاز" : score >= 60 ? "جيد" : score >= 40 ? "مقبول" : "ضعيف";
    }

    @ParameterizedTest
    @MethodSource("examples")
    void assessmentOfEachExampleMatchesTheSchemaAndTheGradeRule(Path example) throws IOException {
        JsonNode metadata = JSON.readTree(example.toFile());
        ObjectNode assessment = DemoAgent.assess(metadata);

        Set<ValidationMessage> errors = schema.validate(assessment);
        assertThat(errors).as(example + " " + assessment).isEmpty();

        int score = assessment.get("درجة_الجودة").intValue();
        assertThat(assessment.get("تقدير_الجودة").asText()).isEqualTo(bandOf(score));
        assertThat(assessment.get("الاسم_الأصلي").asText()).isEqualTo(metadata.get("Name").asText());

        JsonNode inspection = assessment.get("فحص_البيانات");
        assertThat(inspection.get("الطريقة_المستخدمة").asText()).isEqualTo("metadata_only");
        assertThat(inspection.get("عدد_العينات_المفحوصة").intValue()).isZero();
        assertThat(assessment.get("تم_تحميل_البيانات").booleanValue()).isFalse();
        assertThat(assessment.get("المصادر_المفتوحة")).isEmpty();

        // the summary: 3 to 5 Arabic sentences (the example names contain no full stops)
        String summary = assessment.get("الملخص").asText();
        long sentences = Pattern.compile("\\.(\\s|$)").matcher(summary).results().count();
        assertThat(sentences).as(summary).isBetween(3L, 5L);
        assertThat(summary).contains(metadata.get("Name").asText()).containsPattern("\\p{InArabic}");

        // the score is the rounded mean of the seven sub-scores
        int sum = 0;
        for (JsonNode part : assessment.get("تفصيل_الجودة")) {
            sum += part.intValue();
        }
        assertThat(score).isEqualTo(Math.round(sum / 7f));
    }

    @Test
    void scoresFollowHowMuchMetadataIsPresent() throws IOException {
        int rich = DemoAgent.assess(JSON.readTree(EXAMPLES.resolve("tiny_sentiment_corpus.json").toFile()))
                .get("درجة_الجودة").intValue();
        ObjectNode bare = DemoAgent.assess(JSON.readTree(EXAMPLES.resolve("-leading-dash.json").toFile()));

        assertThat(rich).isGreaterThanOrEqualTo(80);
        assertThat(bare.get("درجة_الجودة").intValue()).isLessThan(40);
        assertThat(bare.get("تقدير_الجودة").asText()).isEqualTo("ضعيف");
        assertThat(bare.get("نقاط_الضعف").toString()).contains("ترخيصها غير معروف");
    }

    @Test
    void theSchemaRejectsABrokenAssessment() throws IOException {
        ObjectNode assessment = DemoAgent.assess(JSON.readTree(EXAMPLES.resolve("tiny_sentiment_corpus.json").toFile()));
        assessment.put("درجة_الجودة", 101);
        assessment.put("حقل_زائد", "x");
        ((ObjectNode) assessment.get("فحص_البيانات")).put("الطريقة_المستخدمة", "guesswork");
        ((ObjectNode) assessment.get("فحص_البيانات")).withArray("معاينة_العينات").add("1").add("2").add("3").add("4");

        assertThat(schema.validate(assessment)).hasSizeGreaterThanOrEqualTo(4);
    }

    @Test
    void runPrintsASuccessEnvelopeForAMetadataFile() throws IOException {
        Path input = EXAMPLES.resolve("مدونة_الحوار.json").toAbsolutePath();
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        int code = DemoAgent.run(Map.of("SANDFLOW_INPUT", input.toString()),
                new ByteArrayInputStream("prompt".getBytes(StandardCharsets.UTF_8)), out);

        assertThat(code).isZero();
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(text).endsWith("}\n").doesNotContain("\n{");
        JsonNode env = JSON.readTree(text);
        assertThat(env.get("type").asText()).isEqualTo("result");
        assertThat(env.get("subtype").asText()).isEqualTo("success");
        assertThat(env.get("is_error").booleanValue()).isFalse();
        assertThat(schema.validate(env.get("structured_output"))).isEmpty();
        assertThat(JSON.readTree(env.get("result").asText())).isEqualTo(env.get("structured_output"));
        assertThat(env.get("structured_output").get("الاسم_الأصلي").asText()).isEqualTo("Hiwar Dialogue Corpus");
    }

    @Test
    void runRefusesInputThatIsNotAJsonObject() throws IOException {
        Path array = Files.writeString(dir.resolve("list.json"), "[1, 2, 3]");
        Path text = Files.writeString(dir.resolve("notes.json"), "just some words");

        for (Path input : List.of(array, text, dir.resolve("missing.json"))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int code = DemoAgent.run(Map.of("SANDFLOW_INPUT", input.toString()),
                    new ByteArrayInputStream(new byte[0]), out);

            assertThat(code).as(input.toString()).isEqualTo(1);
            JsonNode env = JSON.readTree(out.toString(StandardCharsets.UTF_8));
            assertThat(env.get("is_error").booleanValue()).isTrue();
            assertThat(env.has("structured_output")).isFalse();
            assertThat(env.get("result").asText()).contains(input.getFileName().toString());
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThat(DemoAgent.run(Map.of(), new ByteArrayInputStream(new byte[0]), out)).isEqualTo(1);
        assertThat(JSON.readTree(out.toString(StandardCharsets.UTF_8)).get("result").asText())
                .contains("SANDFLOW_INPUT");
    }

    @Test
    void gradeBandsMatchTheRule() {
        for (int score = 0; score <= 100; score++) {
            assertThat(DemoAgent.grade(score)).as("score %d", score).isEqualTo(bandOf(score));
        }
    }
}
