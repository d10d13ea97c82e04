package io.sandflow.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Settings are layered defaults, application.properties, --config, --profile, -D; each error names the setting
 * and the file it came from.
 */
class SettingsTest {

    @TempDir
    Path dir;

    private void write(String name, String text) throws IOException {
        Files.writeString(dir.resolve(name), text, StandardCharsets.UTF_8);
    }

    @Test
    void laterLayersWinAndEachValueKnowsWhereItCameFrom() throws IOException {
        write("application.properties", "sandflow.workers=3\nsandflow.inbox=in\nsandflow.outbox=out-app\n");
        write("extra.properties", "sandflow.workers=4\nsandflow.outbox=out-config\n");
        write("application-fast.properties", "sandflow.workers=5\n");

        Settings s = Settings.load(dir, Path.of("extra.properties"), List.of("fast"),
                Map.of("sandflow.rate.per-minute", "7"));

        assertThat(s.positiveInt("sandflow.workers")).isEqualTo(5);
        assertThat(s.origin("sandflow.workers")).isEqualTo("application-fast.properties:1");
        assertThat(s.path("sandflow.inbox")).isEqualTo(dir.resolve("in"));
        assertThat(s.get("sandflow.outbox")).isEqualTo("out-config");
        assertThat(s.positiveInt("sandflow.rate.per-minute")).isEqualTo(7);
        assertThat(s.origin("sandflow.rate.per-minute")).isEqualTo("-D on the command line");
        assertThat(s.get("sandflow.failed")).isEqualTo("failed");
        assertThat(s.origin("sandflow.failed")).isEqualTo("the built-in defaults");
        assertThat(s.origin("sandflow.outbox")).isEqualTo("extra.properties:2");
    }

    @Test
    void propertiesFilesAreReadAsUtf8SoArabicNeedsNoEscapes() throws IOException {
        write("application.properties", "sandflow.result.name={base}_تقييم.json\n");

        Settings s = Settings.load(dir, null, List.of(), Map.of());

        assertThat(s.get("sandflow.result.name")).isEqualTo("{base}_تقييم.json");
    }

    @Test
    void anUnknownSettingStopsStartUpNamingItAndTheLikelyOne() throws IOException {
        write("application.properties", "sandflow.wrokers=3\n");

        assertThatThrownBy(() -> Settings.load(dir, null, List.of(), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("unknown setting sandflow.wrokers in application.properties:1 (did you mean "
                        + "sandflow.workers?)");
    }

    @Test
    void badValuesAreRejectedWithTheSettingTheRuleAndTheSource() throws IOException {
        write("application.properties", "sandflow.agent.timeout=30\nsandflow.workers=two\n");
        Settings s = Settings.load(dir, null, List.of(), Map.of());

        assertThatThrownBy(() -> s.duration("sandflow.agent.timeout")).hasMessage("sandflow.agent.timeout must be a "
                + "duration with a unit, such as 500ms, 30s, 5m or 2h, got '30' (from application.properties:1)");
        assertThatThrownBy(() -> s.positiveInt("sandflow.workers"))
                .hasMessageContaining("sandflow.workers must be a whole number, got 'two'");
    }

    @Test
    void durationsTakeUnitsOrIso() {
        Settings s = Settings.of(dir, Map.of("sandflow.agent.timeout", "1.5m", "sandflow.intake.poll", "PT2S",
                "sandflow.intake.settle", "250ms"));

        assertThat(s.duration("sandflow.agent.timeout")).isEqualTo(Duration.ofSeconds(90));
        assertThat(s.duration("sandflow.intake.poll")).isEqualTo(Duration.ofSeconds(2));
        assertThat(s.duration("sandflow.intake.settle")).isEqualTo(Duration.ofMillis(250));
    }

    @Test
    void aMissingProfileOrConfigIsNamed() {
        assertThatThrownBy(() -> Settings.load(dir, null, List.of("nope"), Map.of()))
                .hasMessageStartingWith("--profile nope: no application-nope.properties in " + dir);
        assertThatThrownBy(() -> Settings.load(dir, Path.of("missing.properties"), List.of(), Map.of()))
                .hasMessage("--config missing.properties: no such file");
    }

    @Test
    void theShippedProfilesAreFoundInTheJarWhenTheFolderHasNone() {
        Settings s = Settings.load(dir, null, List.of("masader"), Map.of());

        assertThat(s.get("sandflow.result.name")).isEqualTo("{base}_assessment.json");
        assertThat(s.text("sandflow.prompt.template")).containsPattern("\\p{IsArabic}");
    }

    @Test
    void theUsersBaseFileWinsOverABuiltInProfile() throws IOException {
        write("application.properties", "# a gateway of our own\n"
                + "sandflow.agent.base-url=https://llm-gateway.example.com\n"
                + "sandflow.sandbox.network.allow=llm-gateway.example.com\n");

        Settings s = Settings.load(dir, null, List.of("masader"), Map.of());

        assertThat(s.list("sandflow.sandbox.network.allow")).containsExactly("llm-gateway.example.com");
        assertThat(s.origin("sandflow.sandbox.network.allow")).isEqualTo("application.properties:3");
        assertThat(s.get("sandflow.result.name")).isEqualTo("{base}_assessment.json");
        assertThat(s.origin("sandflow.result.name")).isEqualTo("the built-in profile masader");
    }

    @Test
    void theUsersOwnProfileFileWinsOverTheUsersBaseFile() throws IOException {
        write("application.properties", "sandflow.sandbox.network.allow=base.example.com\nsandflow.workers=3\n");
        write("application-masader.properties", "sandflow.sandbox.network.allow=\\\n    own.example.com,\\\n"
                + "    *.own.example.com\n");

        Settings s = Settings.load(dir, null, List.of("masader"), Map.of());

        assertThat(s.list("sandflow.sandbox.network.allow")).containsExactly("own.example.com", "*.own.example.com");
        assertThat(s.origin("sandflow.sandbox.network.allow")).isEqualTo("application-masader.properties:1");
        assertThat(s.positiveInt("sandflow.workers")).isEqualTo(3);
        assertThat(s.get("sandflow.result.name")).as("the user's profile replaces the built-in one of that name")
                .isEqualTo("{base}.result.json");
    }

    @Test
    void aCopyOfABuiltInProfileIsTheBuiltInProfile() throws IOException {
        Files.copy(Path.of("application-masader.properties"), dir.resolve("application-masader.properties"));
        write("application.properties", "sandflow.sandbox.network.allow=llm-gateway.example.com\n");

        Settings s = Settings.load(dir, null, List.of("masader"), Map.of());

        assertThat(s.list("sandflow.sandbox.network.allow")).containsExactly("llm-gateway.example.com");
        assertThat(s.origin("sandflow.result.rules")).isEqualTo("the built-in profile masader");
    }

    @Test
    void originsNameTheLineOfEachKeyEvenAfterContinuationsAndComments() {
        Map<String, Integer> lines = SettingsLoader.keyLines("# comment\n\na=1\n  b = \\\n   2,\\\n   3\n! other\n"
                + "c\\ d=4\na=5\n");

        assertThat(lines).containsEntry("a", 9).containsEntry("b", 4).containsEntry("c d", 8).hasSize(3);
    }

    @Test
    void aZeroDurationWhereOnlyAPositiveOneWorksIsRefused() {
        Settings s = Settings.of(dir, Map.of("sandflow.agent.timeout", "0s"));

        assertThatThrownBy(() -> s.positiveDuration("sandflow.agent.timeout"))
                .hasMessage("sandflow.agent.timeout must be longer than zero, got '0s' (from -D on the command line)");
    }
}
