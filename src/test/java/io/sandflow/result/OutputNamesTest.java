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
    void anInputNamedDotDotCannotEscape() {
        assertThatThrownBy(() -> OutputNames.resolve("{name}", ".."))
                .hasMessageStartingWith("sandflow.result.name");
    }
}
