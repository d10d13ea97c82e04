package io.sandflow.result;

import io.sandflow.job.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BandRuleTest {

    private static final ObjectMapper JSON = Json.MAPPER;
    private final ResultRule rule = ResultRules.parse(
            "/درجة_الجودة -> /تقدير_الجودة : ممتاز=80..100, جيد=60..79, مقبول=40..59, ضعيف=0..39").get(0);

    private static JsonNode json(String s) throws Exception {
        return JSON.readTree(s);
    }

    @Test
    void agreeingLabelPasses() throws Exception {
        assertThat(rule.check(json("{\"درجة_الجودة\": 80, \"تقدير_الجودة\": \"ممتاز\"}"))).isEmpty();
        assertThat(rule.check(json("{\"درجة_الجودة\": 39, \"تقدير_الجودة\": \"ضعيف\"}"))).isEmpty();
    }

    @Test
    void disagreeingLabelIsNamed() throws Exception {
        assertThat(rule.check(json("{\"درجة_الجودة\": 85, \"تقدير_الجودة\": \"جيد\"}")))
                .containsExactly("/تقدير_الجودة is 'جيد' but /درجة_الجودة = 85 calls for 'ممتاز'");
    }

    @Test
    void unknownLabelListsTheKnownOnes() throws Exception {
        assertThat(rule.check(json("{\"درجة_الجودة\": 45.50, \"تقدير_الجودة\": \"رائع\"}")))
                .containsExactly("/تقدير_الجودة is 'رائع', which is none of 'ممتاز', 'جيد', 'مقبول', 'ضعيف'; "
                        + "/درجة_الجودة = 45.5 calls for 'مقبول'");
    }

    @Test
    void scoreInAGapIsReported() throws Exception {
        assertThat(rule.check(json("{\"درجة_الجودة\": 79.5, \"تقدير_الجودة\": \"جيد\"}")))
                .containsExactly("/درجة_الجودة = 79.5 falls in no band of /تقدير_الجودة "
                        + "(ممتاز=80..100, جيد=60..79, مقبول=40..59, ضعيف=0..39)");
    }

    @Test
    void missingFields() throws Exception {
        assertThat(rule.check(json("{}"))).isEmpty();
        assertThat(rule.check(json("{\"تقدير_الجودة\": \"جيد\"}")))
                .containsExactly("/تقدير_الجودة is set but /درجة_الجودة is missing, so the label cannot be checked");
        assertThat(rule.check(json("{\"درجة_الجودة\": 70, \"تقدير_الجودة\": null}")))
                .containsExactly("/درجة_الجودة is set but /تقدير_الجودة is missing");
    }

    @Test
    void wrongTypesAreReported() throws Exception {
        assertThat(rule.check(json("{\"درجة_الجودة\": \"85\", \"تقدير_الجودة\": \"ممتاز\"}")))
                .containsExactly("/درجة_الجودة must be a number, got \"85\"");
        assertThat(rule.check(json("{\"درجة_الجودة\": 85, \"تقدير_الجودة\": 1}")))
                .containsExactly("/تقدير_الجودة must be a string, got 1");
    }

    @Test
    void nestedPointersAndSeveralRules() throws Exception {
        List<ResultRule> rules = ResultRules.parse(
                "/a/score -> /a/grade : hi=50..100, lo=0..49.99 ; /b -> /c : x=-10..-1, y=0..0;");
        assertThat(rules).hasSize(2);
        JsonNode node = json("{\"a\": {\"score\": 49.995, \"grade\": \"lo\"}, \"b\": -3, \"c\": \"y\"}");
        assertThat(rules.get(0).check(node)).containsExactly(
                "/a/score = 49.995 falls in no band of /a/grade (hi=50..100, lo=0..49.99)");
        assertThat(rules.get(1).check(node)).containsExactly("/c is 'y' but /b = -3 calls for 'x'");
    }

    @Test
    void blankRulesAreNone() {
        assertThat(ResultRules.parse(null)).isEmpty();
        assertThat(ResultRules.parse("  ;  ")).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "/score /grade : a=1..2",
            "/score -> /grade a=1..2",
            "/score -> /grade :",
            "/score -> /grade : a=1-2",
            "/score -> /grade : =1..2",
            "/score -> /grade : a=x..2",
            "score -> /grade : a=1..2",
            " -> /grade : a=1..2",
            "/score -> /grade : a=5..1",
            "/score -> /grade : a=1..5, b=5..9",
            "/score -> /grade : a=1..2, a=3..4"})
    void badSyntaxNamesTheProperty(String value) {
        assertThatThrownBy(() -> ResultRules.parse(value))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("sandflow.result.rules: ");
    }
}
