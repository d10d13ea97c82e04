package io.sandflow.cli;

import io.sandflow.flow.Stderr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code sandflow config}: every effective setting with its origin, secrets masked. */
class ConfigCommandTest {

    @TempDir
    Path dir;

    @RegisterExtension
    final Stderr err = new Stderr();

    @Test
    void everySettingIsPrintedWithItsOriginAndSecretsAreMasked() throws Exception {
        Files.writeString(dir.resolve("application.properties"), "# ours\nsandflow.workers=3\n"
                + "sandflow.store.url=jdbc:postgresql://db:5432/sandflow?user=sf&password=hunter2\n", StandardCharsets.UTF_8);
        StringWriter out = new StringWriter();

        int code = Sandflow.execute(new PrintWriter(out), "-C", dir.toString(), "--profile", "masader",
                "-Dsandflow.agent.env.GATEWAY_TOKEN=tok-123456", "-Dsandflow.agent.env.NOTE=sk-ant-api03-abcdef",
                "config");

        String text = out.toString();
        assertThat(code).isZero();
        assertThat(line(text, "sandflow.workers")).contains("= 3").endsWith("(application.properties:2)");
        assertThat(line(text, "sandflow.result.name")).contains("{base}_assessment.json")
                .endsWith("(the built-in profile masader)");
        assertThat(line(text, "sandflow.inbox")).endsWith("(the built-in defaults)");
        assertThat(line(text, "sandflow.agent.env.GATEWAY_TOKEN")).contains("= ****")
                .endsWith("(-D on the command line)");
        assertThat(line(text, "sandflow.store.url")).contains("password=****").endsWith("(application.properties:3)");
        assertThat(line(text, "sandflow.agent.inherit-secrets")).as("names of variables, not their values")
                .contains("ANTHROPIC_API_KEY");
        assertThat(text).doesNotContain("hunter2").doesNotContain("tok-123456").doesNotContain("sk-ant-api03-abcdef");
        assertThat(text.lines().filter(l -> l.startsWith("sandflow."))).hasSizeGreaterThan(60);
    }

    /** Options before and after the command add up: picocli would otherwise reset an inherited map or list. */
    @Test
    void settingsAndProfilesGivenBeforeAndAfterTheCommandAddUp() {
        StringWriter out = new StringWriter();

        int code = Sandflow.execute(new PrintWriter(out), "-C", dir.toString(), "-Dsandflow.workers=3",
                "--profile", "masader", "config", "-Dsandflow.intake.batch=7", "--profile", "demo");

        String text = out.toString();
        assertThat(code).isZero();
        assertThat(line(text, "sandflow.workers")).contains("= 3").endsWith("(-D on the command line)");
        assertThat(line(text, "sandflow.intake.batch")).contains("= 7").endsWith("(-D on the command line)");
        assertThat(line(text, "sandflow.result.name")).as("masader's").contains("{base}_assessment.json");
        assertThat(line(text, "sandflow.export.fields")).as("demo's, read last").endsWith("(the built-in profile demo)");
    }

    /** Every setting is still printed, and then the one that is wrong is named: exit 2, as a run would. */
    @Test
    void aValueARunWouldRefuseIsNamedAfterTheListing() {
        StringWriter out = new StringWriter();

        int code = Sandflow.execute(new PrintWriter(out), "-C", dir.toString(), "-Dsandflow.workers=abc", "config");

        assertThat(code).isEqualTo(2);
        assertThat(line(out.toString(), "sandflow.workers")).contains("= abc");
        assertThat(err.text()).contains("sandflow.workers").contains("'abc'");
    }

    private static String line(String text, String key) {
        return text.lines().filter(l -> l.startsWith(key + " ")).findFirst().orElseThrow(() ->
                new AssertionError(key + " not in:\n" + text));
    }
}
