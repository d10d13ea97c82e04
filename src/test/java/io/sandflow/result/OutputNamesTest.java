package io.sandflow.result;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OutputNamesTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', nullValues = "NULL", value = {
            "NULL                    | data.json              | data.result.json",
            "{base}.result.json      | data.json              | data.result.json",
            "{base}_assessment.json  | ar_sentiment.json      | ar_sentiment_assessment.json",
            "{base}_assessment.json  | تصنيف المشاعر.json     | تصنيف المشاعر_assessment.json",
            "{name}.out              | archive.tar.gz         | archive.tar.gz.out",
            "{base}.out              | archive.tar.gz         | archive.tar.out",
            "{base}.out              | README                 | README.out",
            "{base}.out              | .env                   | .env.out",
            "{base}.json             | it's \"quoted\".txt    | it's \"quoted\".json",
            "{base}.json             | $(rm -rf ~).txt        | $(rm -rf ~).json",
            "{base}.json             | a$1\\b.txt             | NULL"})
    void resolves(String pattern, String input, String expected) {
        if (expected == null) {
            assertThatThrownBy(() -> OutputNames.resolve(pattern, input))
                    .hasMessageStartingWith("sandflow.result.name");
        } else {
            assertThat(OutputNames.resolve(pattern, input)).isEqualTo(expected);
        }
    }

    @Test
    void dollarSignsInNamesAreTakenLiterally() {
        assertThat(OutputNames.resolve("{name}-{base}", "$1.x")).isEqualTo("$1.x-$1");
    }

    @ParameterizedTest
    @ValueSource(strings = {"../{base}.json", "out/{base}.json", "{base}\\x.json", "..{base}", "{stem}.json",
            "fixed.json"})
    void badPatternsNameTheProperty(String pattern) {
        assertThatThrownBy(() -> OutputNames.resolve(pattern, "data.json"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("sandflow.result.name '" + pattern + "'");
    }

    @Test
    void aNameWithinTheFileSystemsLimitIsKept() {
        // 255 bytes each, the most a name may have
        assertThat(OutputNames.resolve(null, "x".repeat(243) + ".json")).isEqualTo("x".repeat(243) + ".result.json");
        assertThat(OutputNames.reportName("x".repeat(239) + ".json")).isEqualTo("x".repeat(239) + ".json.error.json");
    }

    @Test
    void aLongerResultNameKeepsItsStartAndEndingAndFits() {
        String name = "م".repeat(122) + ".json";
        String result = OutputNames.resolve(null, name);

        assertThat(OutputNames.utf8Length(result)).isLessThanOrEqualTo(OutputNames.MAX_NAME_BYTES);
        assertThat(result).startsWith("م".repeat(100)).endsWith(".result.json").matches("(?s).*~[0-9a-f]{8}\\.result\\.json");
        assertThat(OutputNames.resolve(null, name)).as("the same every time").isEqualTo(result);
        assertThat(OutputNames.resolve(null, "م".repeat(121) + "ب.json")).as("another name, another result")
                .isNotEqualTo(result);
        assertThat(OutputNames.expand(null, name)).isEqualTo("م".repeat(122) + ".result.json");
    }

    @Test
    void aLongerReportNameKeepsItsEnding() {
        String name = "ب".repeat(120) + ".json";
        String report = OutputNames.reportName(name);
        assertThat(OutputNames.utf8Length(report)).isLessThanOrEqualTo(OutputNames.MAX_NAME_BYTES);
        assertThat(report).matches("(?s)ب{100,}~[0-9a-f]{8}\\.error\\.json");
    }

    @Test
    void shorteningNeverSplitsACharacter() {
        // four-byte characters: a cut in the middle of one would leave invalid UTF-8
        String name = "\uD83D\uDE00".repeat(70) + ".json";
        String fitted = OutputNames.fit(name, ".json");
        assertThat(OutputNames.utf8Length(fitted)).isLessThanOrEqualTo(OutputNames.MAX_NAME_BYTES);
        assertThat(new String(fitted.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                java.nio.charset.StandardCharsets.UTF_8)).isEqualTo(fitted);
        assertThat(fitted.codePoints().filter(cp -> cp >= 0xD800 && cp <= 0xDFFF).count()).as("no half pair").isZero();
    }

    @Test
    void anInputNamedDotDotCannotEscape() {
        assertThatThrownBy(() -> OutputNames.resolve("{name}", ".."))
                .hasMessageStartingWith("sandflow.result.name");
    }
}
