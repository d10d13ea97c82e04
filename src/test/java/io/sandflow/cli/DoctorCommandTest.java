package io.sandflow.cli;

import io.sandflow.config.Settings;
import static org.assertj.core.api.Assertions.assertThat;

import io.sandflow.process.ProcessRunner;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Tag("process")
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DoctorCommandTest {

    private static final String KEY = "sk-ant-api03-doctor-test-only";

    @TempDir
    Path dir;

    private String output;

    private int doctor(Map<String, String> settings, Map<String, String> env) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int rc = new DoctorCommand(env, new ProcessRunner()).run(Settings.of(dir, settings),
                new PrintStream(bytes, true, StandardCharsets.UTF_8));
        output = bytes.toString(StandardCharsets.UTF_8);
        return rc;
    }

    private Path bin(String... programs) throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        for (String program : programs) {
            Path p = Files.writeString(bin.resolve(program), "#!/bin/sh\nexit 0\n");
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        return bin;
    }

    private Map<String, String> env(Path bin, boolean withKey) {
        Map<String, String> env = new HashMap<>();
        env.put("PATH", bin.toString());
        if (withKey) {
            env.put("ANTHROPIC_API_KEY", KEY);
        }
        return env;
    }

    @Test
    void aCompleteSrtSetUpHasNothingMissingAndNeverShowsTheKey() throws Exception {
        Path bin = bin("claude", "srt", "bwrap", "socat", "rg");

        int rc = doctor(Map.of(), env(bin, true));

        assertThat(rc).as(output).isZero();
        assertThat(output).contains("ok       agent: `claude` is " + bin.resolve("claude"))
                .contains("ok       api key: ANTHROPIC_API_KEY is set")
                .contains("ok       store: opened")
                .contains("Nothing is missing.")
                .doesNotContain(KEY)
                .doesNotContain("MISSING");
    }

    /** sandflow.agent.contract ignores case wherever it is read: a Claude contract spelled in capitals needs a key. */
    @Test
    void theContractIgnoresCaseWhenDoctorAsksForTheApiKey() throws Exception {
        Path bin = bin("claude", "srt", "bwrap", "socat", "rg");

        doctor(Map.of("sandflow.agent.contract", "Claude"), env(bin, false));

        assertThat(output).contains("MISSING  api key: ANTHROPIC_API_KEY is not set")
                .doesNotContain("not needed here");
    }

    @Test
    void eachMissingPieceIsNamedWithWhatToDo() throws Exception {
        Path bin = bin("srt", "bwrap", "socat");

        int rc = doctor(Map.of(), env(bin, false));

        assertThat(rc).isEqualTo(1);
        assertThat(output.lines().filter(l -> l.startsWith("MISSING")).toList()).containsExactlyInAnyOrder(
                "MISSING  agent: `claude` (sandflow.agent.command) is not on PATH; install the agent CLI (for Claude "
                        + "Code: npm install -g @anthropic-ai/claude-code) or set an absolute path",
                "MISSING  ripgrep: `rg` is not on PATH; srt needs it on Linux: apt-get install ripgrep",
                "MISSING  api key: ANTHROPIC_API_KEY is not set; export it before starting Sandflow");
    }

    @Test
    void sbxSandboxesAreCheckedForExistenceAndPolicy() throws Exception {
        Path fake = Files.createDirectories(dir.resolve("fake/bin")).resolve("sbx");
        try (InputStream in = getClass().getResourceAsStream("/sandbox/fake-sandbox-cli.sh")) {
            Files.copy(in, fake, StandardCopyOption.REPLACE_EXISTING);
        }
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path state = Files.createDirectories(dir.resolve("fake/state/sandboxes")).getParent();
        Files.writeString(state.resolve("sandboxes/sandflow-1"), "");
        Files.writeString(state.resolve("sandboxes/sandflow-3"), "");
        Files.createDirectories(state.resolve("policy"));
        Files.write(state.resolve("policy/sandflow-1"), List.of("api.anthropic.com"));
        Map<String, String> settings = Map.of("sandflow.sandbox.kind", "sbx", "sandflow.workers", "3",
                "sandflow.sandbox.command", fake.toString());

        int rc = doctor(settings, env(bin(), false));

        assertThat(rc).isEqualTo(1);
        assertThat(output).contains("ok       sandbox sandflow-1: exists; its policy allows the allowlist and denies "
                        + "other hosts")
                .contains("MISSING  sandbox sandflow-2: does not exist; `sandflow run` creates it, or create it yourself "
                        + "with `sbx create --name sandflow-2 claude WORKSPACE`")
                .contains("MISSING  sandbox sandflow-3: exists but denies api.anthropic.com")
                .contains("WARN     api key: sbx keeps the key in its own secret store; run `sbx secret set anthropic`");
    }

    @Test
    void eachConfigurationErrorTheDaemonRefusesIsMissingHereToo() throws Exception {
        Path bin = bin("claude", "srt", "bwrap", "socat", "rg");

        for (Map.Entry<String, String> bad : Map.of("sandflow.agent.timeout", "0s", "sandflow.cluster.lease", "0s",
                "sandflow.breaker.open-for", "0s", "sandflow.intake.batch", "0").entrySet()) {
            int rc = doctor(Map.of(bad.getKey(), bad.getValue()), env(bin, true));

            assertThat(rc).as(output).isEqualTo(1);
            assertThat(output).contains("MISSING  settings: " + bad.getKey());
        }
    }

    @Test
    void aRouteFileWithASyntaxErrorOrAnUnknownMethodIsMissing() throws Exception {
        Path bin = bin("claude", "srt", "bwrap", "socat", "rg");
        Path routes = Files.createDirectories(dir.resolve("routes"));
        Files.writeString(routes.resolve("results.camel.yaml"), "- route:\n    id: publish\n  from: [\n");

        assertThat(doctor(Map.of(), env(bin, true))).isEqualTo(1);
        assertThat(output).containsPattern("MISSING  routes: routes/results\\.camel\\.yaml:\\d+:\\d+: ");

        String dispatch = Files.readString(Path.of("routes/dispatch.camel.yaml"));
        Files.delete(routes.resolve("results.camel.yaml"));
        Files.writeString(routes.resolve("dispatch.camel.yaml"), dispatch.replace("method: claim\n", "method: grab\n"));

        assertThat(doctor(Map.of(), env(bin, true))).isEqualTo(1);
        assertThat(output).containsPattern("MISSING  routes: routes/dispatch\\.camel\\.yaml:\\d+:\\d+: route 'dispatch' "
                + "calls the method 'grab'");
        assertThat(dir.resolve("inbox")).as("checking the routes creates no folder").doesNotExist();
    }

    @Test
    void aBaseUrlWhoseHostTheAllowlistDoesNotAdmitIsMissing() throws Exception {
        Path bin = bin("claude", "srt", "bwrap", "socat", "rg");

        int rc = doctor(Map.of("sandflow.agent.base-url", "https://llm-gateway.example.com/v1"), env(bin, true));

        assertThat(rc).isEqualTo(1);
        assertThat(output).contains("MISSING  network: sandflow.agent.base-url=https://llm-gateway.example.com/v1")
                .contains("llm-gateway.example.com").contains("sandflow.sandbox.network.allow");

        for (String allow : new String[] {"llm-gateway.example.com", "*.example.com", "llm-gateway.example.com:443"}) {
            assertThat(doctor(Map.of("sandflow.agent.base-url", "https://llm-gateway.example.com/v1",
                    "sandflow.sandbox.network.allow", allow), env(bin, true))).as(allow + ": " + output).isZero();
        }
        assertThat(doctor(Map.of("sandflow.agent.base-url", "http://127.0.0.1:8089",
                "sandflow.sandbox.network.allow", "127.0.0.1:9000"), env(bin, true))).isEqualTo(1);
        assertThat(doctor(Map.of("sandflow.sandbox.network.allow", "example.org"), env(bin, true)))
                .as("the default API host must be admitted too").isEqualTo(1);
        assertThat(output).contains("api.anthropic.com");
    }

    @Test
    void srtIsTriedForRealWithTheConfiguredPolicyAndItsRefusalIsMissing() throws Exception {
        Path bin = bin("claude", "bwrap", "socat", "rg");
        Path srt = Files.writeString(bin.resolve("srt"), "#!/bin/sh\n"
                + "echo 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n");
        Files.setPosixFilePermissions(srt, PosixFilePermissions.fromString("rwxr-xr-x"));

        int rc = doctor(Map.of(), env(bin, true));

        assertThat(rc).isEqualTo(1);
        assertThat(output).contains("MISSING  sandbox run:").contains("bwrap: setting up uid map: Permission denied");
    }

    @Test
    void theRealSrtRunsANoOpWithTheConfiguredPolicy() throws Exception {
        java.util.Optional<Path> srt = ProcessRunner.locate("srt");
        org.junit.jupiter.api.Assumptions.assumeTrue(srt.isPresent() || "true".equals(System.getenv("CI")),
                "srt is not on PATH");
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("ANTHROPIC_API_KEY", KEY);
        Path claude = bin("claude").resolve("claude");

        int rc = doctor(Map.of("sandflow.agent.command", claude.toString()), env);

        assertThat(output).contains("ok       sandbox run: a no-op ran inside srt with the configured policy");
        assertThat(rc).as(output).isZero();
    }
}
