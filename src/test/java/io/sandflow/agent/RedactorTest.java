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
    void masksAnyEightCharactersOfASecretWhereverTheTextWasCut() {
        String key = "sk-ant-api03-Zq81xKp0Lm4vNw7RtY2bHc6dFj9gSe3u-AbCd";
        Redactor r = Redactor.of(Map.of("ANTHROPIC_API_KEY", key));
        // An 8 KiB tail that begins 12 characters into the key, and the key broken over two lines
        String tail = key.substring(12) + "\n... done";
        String broken = "key: " + key.substring(0, 20) + "\n" + key.substring(20);

        assertThat(r.redact(tail)).isEqualTo("[REDACTED]\n... done");
        assertThat(r.redact(broken)).doesNotContain(key.substring(12, 20)).doesNotContain(key.substring(20, 28));
        assertThat(r.redact("a piece " + key.substring(30, 38) + " alone")).isEqualTo("a piece [REDACTED] alone");
        assertThat(r.redact("seven " + key.substring(30, 37) + " stays")).contains(key.substring(30, 37));
    }

    @Test
    void masksKnownKeyPrefixesEvenWhenTheKeysStartWasCutOff() {
        Redactor r = Redactor.patternsOnly();
        assertThat(r.redact("tail: api03-Zq81xKp0Lm4vNw7RtY2b more")).isEqualTo("tail: [REDACTED] more");
        assertThat(r.redact("nt-oat01-Zq81xKp0Lm4vNw7RtY2b")).isEqualTo("[REDACTED]");
        assertThat(r.redact("gh ghp_0123456789abcdefghijABCDEF and AKIAABCDEFGHIJKLMNOP and "
                + "hf_abcdefghijklmnopqrstuvwxyz0123456"))
                .isEqualTo("gh [REDACTED] and [REDACTED] and [REDACTED]");
        assertThat(r.redact("the api of 2003-era software")).isEqualTo("the api of 2003-era software");
    }

    @Test
    void namesTheSecretATextOrAResultCarries() throws Exception {
        Redactor r = Redactor.of(Map.of("ANTHROPIC_API_KEY", "sk-ant-api03-0123456789abcdef",
                "DB_CREDENTIALS", "s3cr3t-db-pass", "PATH", "/usr/bin"));
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();

        assertThat(r.secretIn("all fine in /usr/bin")).isEmpty();
        assertThat(r.secretIn("cut: 0123456789abcdef")).hasValue("ANTHROPIC_API_KEY");
        assertThat(r.secretIn(json.readTree("{\"summary\":\"ok\",\"tags\":[\"x\",\"s3cr3t-db\"]}")))
                .hasValue("DB_CREDENTIALS");
        assertThat(r.secretIn(json.readTree("{\"sk-ant-oat01-zzzz\": 1}"))).hasValue("an Anthropic API key");
        assertThat(r.secretIn(json.readTree("{\"summary\":\"a dataset of tweets\",\"tags\":[]}"))).isEmpty();
    }

    @Test
    void nullAndEmptyPassThrough() {
        assertThat(redactor.redact(null)).isNull();
        assertThat(redactor.redact("")).isEmpty();
    }
}
