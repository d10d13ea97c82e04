package io.sandflow.agent;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class RedactorTest {

    private final Redactor redactor = Redactor.of(Map.of(
            "ANTHROPIC_API_KEY", "test-key-0123456789",
            "GITHUB_TOKEN", "ghp_abcdef",
            "DB_PASSWORD", "hunter22",
            "my_secret", "lowercase-name-value",
            "PATH", "/usr/bin:/bin",
            "SHORT_KEY", "ab"));

    @Test
    void masksValuesOfSecretNamedVariables() {
        String text = "key=test-key-0123456789 gh=ghp_abcdef pw=hunter22 s=lowercase-name-value";
        assertThat(redactor.redact(text)).isEqualTo("key=[REDACTED] gh=[REDACTED] pw=[REDACTED] s=[REDACTED]");
    }

    @Test
    void leavesOtherVariablesAndShortValuesAlone() {
        assertThat(redactor.redact("PATH is /usr/bin:/bin, ab stays")).isEqualTo("PATH is /usr/bin:/bin, ab stays");
    }

    @Test
    void masksKeyShapedAndBearerText() {
        String text = "curl -H 'Authorization: Bearer eyJhbGciOi.J9x-y_z' -H 'x-api-key: sk-ant-api03-AbC_d-9'"
                + " then sk-ant-oat01-zzz";
        assertThat(Redactor.patternsOnly().redact(text)).isEqualTo(
                "curl -H 'Authorization: Bearer [REDACTED]' -H 'x-api-key: [REDACTED]' then [REDACTED]");
    }

    @Test
    void nullAndEmptyPassThrough() {
        assertThat(redactor.redact(null)).isNull();
        assertThat(redactor.redact("")).isEmpty();
    }
}
