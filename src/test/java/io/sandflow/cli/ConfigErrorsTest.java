package io.sandflow.cli;

import io.sandflow.flow.Stderr;
import io.sandflow.flow.Workdir;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each configuration mistake a user makes stops {@code run --once} with exit 2 and one sentence naming the setting or
 * the file (with line and column where there is one); none is a stack trace, a hang or silence. A routes/ folder
 * replaces built-in route files by name and keeps the others.
 */
@Tag("process")
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConfigErrorsTest {

    @TempDir
    Path dir;
    Workdir work;
    @RegisterExtension
    final Stderr err = new Stderr();

    @BeforeEach
    void setUp() throws IOException {
        work = new Workdir(dir);
        work.set("sandflow.once.max-wait", "5s");
    }

    private String stderr() {
        return err.text();
    }

    /** The sandflow: line the command ended with. */
    private String sentence() {
        return stderr().lines().filter(l -> l.startsWith("sandflow: ")).reduce((a, b) -> b).orElse("");
    }

    @ParameterizedTest
    @CsvSource({"sandflow.agent.timeout, 0s", "sandflow.cluster.lease, 0s", "sandflow.breaker.open-for, 0ms",
            "sandflow.intake.batch, 0", "sandflow.intake.batch, -1", "sandflow.intake.poll, 0s",
            "sandflow.intake.recheck, 0ms", "sandflow.observe.refresh, 0s", "sandflow.shutdown.grace, PT-1S"})
    void aZeroOrNegativeValueThatWouldFailEveryJobIsAConfigurationError(String key, String value) throws Exception {
        work.ask("a.json", "success");
        work.set(key, value);

        assertThat(work.runOnce()).isEqualTo(2);

        assertThat(sentence()).contains(key).contains("'" + value + "'");
        assertThat(stderr()).doesNotContain("\tat ");
        assertThat(dir.resolve("data")).doesNotExist();
        assertThat(work.names(work.inbox())).containsExactly("a.json");
    }

    @Test
    void aYamlSyntaxErrorNamesTheFileLineAndColumn() throws Exception {
        Path routes = Files.createDirectories(dir.resolve("routes"));
        String results = Files.readString(Path.of("routes/results.camel.yaml"));
        Files.writeString(routes.resolve("results.camel.yaml"), results.replaceFirst("(?m)^        - bean:$",
                "        - bean: ["));
        work.ask("a.json", "success");

        assertThat(work.runOnce()).isEqualTo(2);

        assertThat(sentence()).matches("sandflow: routes/results\\.camel\\.yaml:\\d+:\\d+: .*");
        assertThat(stderr()).doesNotContain("\tat ");
        assertThat(work.names(work.inbox())).containsExactly("a.json");
    }

    @Test
    void aRouteNamingAnUnknownMethodNamesItAndTheFile() throws Exception {
        copyRouteWith("dispatch.camel.yaml", "method: claim\n", "method: claimm\n");
        work.ask("a.json", "success");

        assertThat(work.runOnce()).isEqualTo(2);

        assertThat(sentence()).startsWith("sandflow: routes/dispatch.camel.yaml:").contains("'claimm'")
                .contains("dispatch");
        assertThat(stderr()).doesNotContain("\tat ");
        assertThat(work.names(work.inbox())).containsExactly("a.json");
    }

    @Test
    void aRouteNamingAnUnknownBeanNamesItAndTheFile() throws Exception {
        copyRouteWith("results.camel.yaml", "ref: progress\n", "ref: progres\n");
        work.ask("a.json", "success");

        assertThat(work.runOnce()).isEqualTo(2);

        assertThat(sentence()).startsWith("sandflow: routes/results.camel.yaml:").contains("'progres'")
                .contains("does not exist");
        assertThat(stderr()).doesNotContain("\tat ");
    }

    @Test
    void aRoutesFolderThatLosesARouteTheEngineNeedsIsNamed() throws Exception {
        // An edited results file that kept the publish route but dropped the fail route
        String results = Files.readString(Path.of("routes/results.camel.yaml"));
        Path routes = Files.createDirectories(dir.resolve("routes"));
        Files.writeString(routes.resolve("results.camel.yaml"), results.substring(0, results.indexOf("- route:\n    id: fail")));
        work.ask("a.json", "success");

        assertThat(work.runOnce()).isEqualTo(2);

        assertThat(sentence()).contains("route 'fail'").contains("routes/results.camel.yaml");
        assertThat(dir.resolve("data")).doesNotExist();
    }

    @Test
    void anIntakeFileWithoutTheRetriesRouteIsNamed() throws Exception {
        // An edited intake file that kept the poller but dropped the route that runs a job again after its backoff
        String intake = Files.readString(Path.of("routes/intake.camel.yaml"));
        Path routes = Files.createDirectories(dir.resolve("routes"));
        Files.writeString(routes.resolve("intake.camel.yaml"), intake.substring(0, intake.indexOf("- route:\n    id: retries")));
        work.ask("a.json", "success");

        assertThat(work.runOnce()).isEqualTo(2);

        assertThat(sentence()).contains("route 'retries'").contains("routes/intake.camel.yaml");
    }

    @Test
    void anEmptyRoutesFolderRunsTheBuiltInRoutes() throws Exception {
        Files.createDirectories(dir.resolve("routes"));
        work.ask("a.json", "success");

        assertThat(work.runOnce()).isZero();

        assertThat(work.names(work.outbox())).containsExactly("a.result.json");
    }

    @Test
    void aRoutesFolderReplacesTheFilesItHoldsAndKeepsTheOthersBuiltIn() throws Exception {
        // An edited publish route that also leaves a marker, and a route file of the user's own
        copyRouteWith("results.camel.yaml", "              - bean:\n                  id: progress-ok\n",
                "              - setBody:\n                  constant: \"published\"\n"
                        + "              - to:\n                  uri: \"file:{{sandflow.inbox}}/../marks?fileName=${file:name}\"\n"
                        + "              - bean:\n                  id: progress-ok\n");
        Files.writeString(dir.resolve("routes/extra.camel.yaml"), """
                - route:
                    id: extra
                    from:
                      uri: "timer:extra"
                      parameters:
                        repeatCount: 1
                        delay: 0
                      steps:
                        - setBody:
                            constant: "extra ran"
                        - to:
                            uri: "file:{{sandflow.inbox}}/../marks?fileName=extra.txt"
                """);
        work.ask("a.json", "success");

        assertThat(work.runOnce()).isZero();

        assertThat(work.names(work.outbox())).containsExactly("a.result.json");
        assertThat(work.names(dir.resolve("marks"))).contains("extra.txt", "a.json");
    }

    private void copyRouteWith(String name, String from, String to) throws IOException {
        String text = Files.readString(Path.of("routes", name));
        assertThat(text).contains(from);
        Path routes = Files.createDirectories(dir.resolve("routes"));
        Files.writeString(routes.resolve(name), text.replace(from, to));
    }
}
