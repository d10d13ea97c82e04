package io.sandflow.result;

import io.sandflow.job.Json;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class ResultWriterTest {

    @Test
    void keepsArabicUnescapedPrettyAndNewlineTerminated() throws Exception {
        var node = Json.MAPPER.readTree(
                "{\"تقدير_الجودة\":\"ممتاز\",\"درجة_الجودة\":85,\"مصادر\":[\"a\",\"b\"],\"emoji\":\"😀\"}");
        String text = new String(new ResultWriter().render(node), StandardCharsets.UTF_8);
        assertThat(text).isEqualTo("""
                {
                  "تقدير_الجودة": "ممتاز",
                  "درجة_الجودة": 85,
                  "مصادر": [
                    "a",
                    "b"
                  ],
                  "emoji": "😀"
                }
                """);
        assertThat(text).doesNotContain("\\u");
    }
}
