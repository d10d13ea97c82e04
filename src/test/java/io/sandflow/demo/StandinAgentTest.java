package io.sandflow.demo;

import io.sandflow.job.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs the stand-in agent scripts the way Sandflow does (argv list, prompt on stdin, SANDFLOW_*
 * environment) and checks the envelopes they print.
 */
class StandinAgentTest {

    private static final ObjectMapper JSON = Json.MAPPER;
    private static final Path STANDIN = Path.of("src/test/resources/standin/standin-agent.sh").toAbsolutePath();
    private static final Path INSTANT = Path.of("src/test/resources/standin/instant-agent.sh").toAbsolutePath();

    @TempDir
    Path dir;

    record Run(int exitCode, String stdout) {
        JsonNode envelope() throws IOException {
            return JSON.readTree(stdout);
        }
    }

    /** One call: jobName is the input's file name, created in the temp dir with the given content. */
    private Run call(Path script, String jobName, String inputContent, Map<String, String> extraEnv, String... flags)
            throws Exception {
        Path input = dir.resolve("in").resolve(jobName);
        Files.createDirectories(input.getParent());
        Files.writeString(input, inputContent, StandardCharsets.UTF_8);
        Path state = Files.createDirectories(dir.resolve("state"));

        List<String> argv = new ArrayList<>();
        argv.add(script.toString());
        argv.addAll(List.of("-p", "--output-format", "json", "--json-schema", "{\"type\":\"object\"}",
                "--no-session-persistence"));
        argv.addAll(List.of(flags));
        ProcessBuilder pb = new ProcessBuilder(argv).directory(dir.toFile());
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("STANDIN_") || k.startsWith("SANDFLOW_"));
        env.put("SANDFLOW_INPUT", input.toString());
        env.put("SANDFLOW_OUTPUT", dir.resolve("out").resolve(jobName + ".result.json").toString());
        env.put("SANDFLOW_JOB_NAME", jobName);
        env.put("SANDFLOW_ATTEMPT", "1");
        env.put("STANDIN_STATE_DIR", state.toString());
        env.put("STANDIN_LOG", dir.resolve("calls.log").toString());
        env.putAll(extraEnv);
        Files.createDirectories(dir.resolve("out"));

        Process p = pb.redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (OutputStream stdin = p.getOutputStream()) {
            stdin.write(("Summarise " + jobName + " please.\n").getBytes(StandardCharsets.UTF_8));
        }
        byte[] out = p.getInputStream().readAllBytes();
        boolean done = p.waitFor(30, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        assertThat(done).as("agent finished").isTrue();
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    private Run call(String jobName, String behaviour) throws Exception {
        return call(STANDIN, jobName, "{\"Name\": \"x\"}", Map.of("STANDIN_BEHAVIOUR", behaviour));
    }

    @Test
    void successCarriesStructuredOutputNamingTheJobAndLogsTheCall() throws Exception {
        Run run = call("plain.json", "success");

        assertThat(run.exitCode()).isZero();
        JsonNode env = run.envelope();
        assertThat(env.path("type").asText()).isEqualTo("result");
        assertThat(env.path("subtype").asText()).isEqualTo("success");
        assertThat(env.path("is_error").asBoolean(true)).isFalse();
        assertThat(env.path("structured_output").path("summary").asText()).contains("plain.json");
        assertThat(env.path("structured_output").path("tags").get(0).asText()).isEqualTo("standin");
        assertThat(JSON.readTree(env.path("result").asText())).isEqualTo(env.path("structured_output"));
        assertThat(env.path("session_id").asText()).matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");

        assertThat(Files.readString(dir.resolve("state/plain.json.attempt-1.prompt")))
                .isEqualTo("Summarise plain.json please.\n");
        assertThat(Files.readString(dir.resolve("calls.log")))
                .matches("\\d{13} success plain\\.json attempt=1 pid=\\d+\n");
    }

    @Test
    void rateLimitNamedInTheInputFileWinsOverTheEnvironment() throws Exception {
        Run run = call(STANDIN, "limited.json", "{\"Name\": \"x\", \"standin\": \"rate-limit\"}",
                Map.of("STANDIN_BEHAVIOUR", "success"));

        assertThat(run.exitCode()).isEqualTo(1);
        JsonNode env = run.envelope();
        assertThat(env.path("subtype").asText()).isEqualTo("success");
        assertThat(env.path("is_error").asBoolean(false)).isTrue();
        assertThat(env.path("api_error_status").asInt()).isEqualTo(429);
        assertThat(env.path("result").asText()).startsWith("API Error: Request rejected (429)");
        assertThat(env.has("structured_output")).isFalse();
    }

    @Test
    void emptyPrintsNothingAndExitsZero() throws Exception {
        Run run = call("silent.json", "empty");

        assertThat(run.exitCode()).isZero();
        assertThat(run.stdout()).isEmpty();
    }

    @Test
    void writeFilePutsTheResultAtSandflowOutput() throws Exception {
        Run run = call("to-file.json", "write-file");

        assertThat(run.exitCode()).isZero();
        JsonNode env = run.envelope();
        assertThat(env.path("is_error").asBoolean(true)).isFalse();
        assertThat(env.has("structured_output")).isFalse();
        JsonNode written = JSON.readTree(dir.resolve("out/to-file.json.result.json").toFile());
        assertThat(written.path("summary").asText()).contains("to-file.json");
        assertThat(written.path("tags").isArray()).isTrue();
    }

    @Test
    void flakyOneFailsOnceThenSucceeds() throws Exception {
        Run first = call("flaky.json", "flaky-1");
        Run second = call("flaky.json", "flaky-1");

        assertThat(first.exitCode()).isEqualTo(1);
        assertThat(first.envelope().path("api_error_status").asInt()).isEqualTo(429);
        assertThat(second.exitCode()).isZero();
        assertThat(second.envelope().path("is_error").asBoolean(true)).isFalse();
        assertThat(second.envelope().path("structured_output").path("summary").asText()).contains("flaky.json");
        assertThat(Files.readString(dir.resolve("state/flaky.json.count")).trim()).isEqualTo("2");
    }

    @Test
    void arabicAndShellHostileFileNamesSurviveIntact() throws Exception {
        for (String name : List.of("مدونة_الحوار.json", "it's $(not) a & shell.json", "-leading-dash.json",
                "quote\"and\\backslash.json")) {
            Run run = call(name, "arabic");

            assertThat(run.exitCode()).as(name).isZero();
            JsonNode summary = run.envelope().path("structured_output").path("summary");
            assertThat(summary.asText()).as(name).contains(name).contains("ملخص");
            assertThat(Files.exists(dir.resolve("state").resolve(name + ".attempt-1.prompt"))).as(name).isTrue();
        }
        assertThat(Files.readAllLines(dir.resolve("calls.log"), StandardCharsets.UTF_8))
                .hasSize(4)
                .anySatisfy(line -> assertThat(line).contains(" arabic مدونة_الحوار.json attempt=1 "));
    }

    @Test
    void maxTurnsHonoursTheFlagAndHasNoResultKey() throws Exception {
        Run run = call(STANDIN, "turns.json", "{}", Map.of("STANDIN_BEHAVIOUR", "max-turns"), "--max-turns", "3");

        assertThat(run.exitCode()).isEqualTo(1);
        JsonNode env = run.envelope();
        assertThat(env.path("subtype").asText()).isEqualTo("error_max_turns");
        assertThat(env.has("result")).isFalse();
        assertThat(env.path("errors").get(0).asText()).isEqualTo("Reached maximum number of turns (3)");
    }

    @Test
    void instantAgentPrintsAValidSuccessEnvelope() throws Exception {
        String name = "فحص \"سريع\" $(x).json";
        Run run = call(INSTANT, name, "{}", Map.of());

        assertThat(run.exitCode()).isZero();
        JsonNode env = run.envelope();
        assertThat(env.path("is_error").asBoolean(true)).isFalse();
        assertThat(env.path("structured_output").path("summary").asText()).contains(name);
        assertThat(JSON.readTree(env.path("result").asText())).isEqualTo(env.path("structured_output"));
    }
}
