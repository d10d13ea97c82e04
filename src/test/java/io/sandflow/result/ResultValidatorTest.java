package io.sandflow.result;

import io.sandflow.job.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ResultValidatorTest {

    private static final ObjectMapper JSON = Json.MAPPER;
    private static final String RULES = "/درجة_الجودة -> /تقدير_الجودة : ممتاز=80..100, جيد=60..79, مقبول=40..59, ضعيف=0..39";

    private static String schema() throws IOException {
        try (InputStream in = ResultValidatorTest.class.getResourceAsStream("/result/assessment.schema.json")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static JsonNode json(String s) throws IOException {
        return JSON.readTree(s);
    }

    @Test
    void aValidResultHasNoProblems() throws Exception {
        ResultValidator v = new ResultValidator(schema(), ResultRules.parse(RULES));
        assertThat(v.validate(json("{\"درجة_الجودة\": 85, \"تقدير_الجودة\": \"ممتاز\", \"ملخص\": \"مجموعة بيانات جيدة التوثيق\"}")))
                .isEmpty();
    }

    @Test
    void problemsNameTheFieldAndTheRule() throws Exception {
        ResultValidator v = new ResultValidator(schema(), List.of());
        List<String> problems = v.validate(json("""
                {"درجة_الجودة": "85", "تقدير_الجودة": "رائع", "ملخص": "قصير", "extra": 1,
                 "مصادر": ["not a uri"]}
                """));
        assertThat(problems).containsExactlyInAnyOrder(
                "(root): property 'extra' is not defined in the schema and the schema does not allow additional properties",
                "/درجة_الجودة: string found, integer expected",
                "/تقدير_الجودة: does not have a value in the enumeration [\"ممتاز\", \"جيد\", \"مقبول\", \"ضعيف\"]",
                "/ملخص: must be at least 10 characters long",
                "/مصادر/0: does not match the uri pattern must be a valid RFC 3986 URI");
    }

    @Test
    void missingRequiredFieldIsReportedAtTheRoot() throws Exception {
        ResultValidator v = new ResultValidator(schema(), List.of());
        assertThat(v.validate(json("{\"درجة_الجودة\": 50, \"تقدير_الجودة\": \"مقبول\"}")))
                .containsExactly("(root): required property 'ملخص' not found");
    }

    @Test
    void rulesRunAfterTheSchema() throws Exception {
        ResultValidator v = new ResultValidator(schema(), ResultRules.parse(RULES));
        assertThat(v.validate(json("{\"درجة_الجودة\": 85, \"تقدير_الجودة\": \"جيد\", \"ملخص\": \"مجموعة بيانات جيدة التوثيق\"}")))
                .containsExactly("/تقدير_الجودة is 'جيد' but /درجة_الجودة = 85 calls for 'ممتاز'");
    }

    @Test
    void defaultsToDraft2020WhenNoSchemaIsDeclared() {
        // prefixItems only exists from 2020-12; under an older draft it would be ignored.
        ResultValidator v = new ResultValidator("{\"type\":\"object\",\"properties\":{\"p\":{\"prefixItems\":[{\"type\":\"integer\"}]}}}",
                List.of());
        assertThat(v.validate(JSON.createObjectNode().set("p", JSON.createArrayNode().add("x"))))
                .containsExactly("/p/0: string found, integer expected");
    }

    @Test
    void honoursADeclaredOlderDraft() {
        ResultValidator v = new ResultValidator("{\"$schema\":\"http://json-schema.org/draft-07/schema#\","
                + "\"properties\":{\"p\":{\"prefixItems\":[{\"type\":\"integer\"}]}}}", List.of());
        assertThat(v.validate(JSON.createObjectNode().set("p", JSON.createArrayNode().add("x")))).isEmpty();
    }

    @Test
    void invalidSchemasAreRejectedNamingTheKey() {
        assertThatThrownBy(() -> new ResultValidator("{oops", List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("sandflow.result.schema is not valid JSON");
        assertThatThrownBy(() -> new ResultValidator("[]", List.of()))
                .hasMessage("sandflow.result.schema must be a JSON object (a JSON Schema), got array");
        assertThatThrownBy(() -> new ResultValidator("{\"type\":\"strnig\"}", List.of()))
                .hasMessageStartingWith("sandflow.result.schema is not a valid JSON Schema: /type:");
        assertThatThrownBy(() -> new ResultValidator("{\"$schema\":\"https://example.com/mine\"}", List.of()))
                .hasMessageStartingWith("sandflow.result.schema declares an unsupported $schema 'https://example.com/mine'");
        assertThatThrownBy(() -> new ResultValidator("{\"$ref\":\"#/$defs/nope\"}", List.of()))
                .hasMessage("sandflow.result.schema cannot be compiled: Reference /$defs/nope cannot be resolved");
        assertThatThrownBy(() -> new ResultValidator(" ", List.of()))
                .hasMessageStartingWith("sandflow.result.schema is empty");
    }

    @Test
    void tooManyProblemsAreCounted() {
        ResultValidator v = new ResultValidator("{\"type\":\"array\",\"items\":{\"type\":\"string\"}}", List.of());
        var array = JSON.createArrayNode();
        for (int i = 0; i < 25; i++) {
            array.add(i);
        }
        List<String> problems = v.validate(array);
        assertThat(problems).hasSize(ResultValidator.MAX_PROBLEMS + 1).last().isEqualTo("… and 5 more");
    }
}
