package io.sandflow.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sandflow.process.ProcessOutcome;
import io.sandflow.process.ProcessRunner;
import io.sandflow.process.ProcessSpec;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SbxSandboxTest {

    private static final List<String> HOSTS = List.of("api.anthropic.com", "*.huggingface.co");
    private static final String SECRET = "sk-ant-api03-test-only-not-a-key";

    @TempDir
    Path dir;

    private FakeSandboxCli fake;
    private WorkerPool pool;
    private final ProcessRunner runner = new ProcessRunner();

    @BeforeEach
    void setUp() throws Exception {
        fake = new FakeSandboxCli(dir.resolve("fake"));
        pool = new WorkerPool(dir.resolve("work"), WorkerPool.sandboxNames(4, List.of(), "sandflow-"));
    }

    private SbxSandbox sandbox(Duration timeout) {
        return new SbxSandbox(fake.sbx(), HOSTS, timeout, runner);
    }

    private String root(int worker) {
        return dir.resolve("work/worker-" + worker).toAbsolutePath().toString();
    }

    @Test
    void preparingAPoolOfFourListsThenCreatesAndOpensThePolicyOfEach() throws Exception {
        Map<String, String> retired = pool.prepare(sandbox(Duration.ofSeconds(20)));

        assertThat(retired).isEmpty();
        List<List<String>> expected = new ArrayList<>();
        expected.add(List.of("sbx", "ls", "--json"));
        for (int i = 1; i <= 4; i++) {
            expected.add(List.of("sbx", "create", "--name", "sandflow-" + i, "claude", root(i)));
            expected.add(List.of("sbx", "policy", "allow", "network", "--sandbox", "sandflow-" + i,
                    "api.anthropic.com", "*.huggingface.co"));
        }
        assertThat(fake.argvs()).containsExactlyElementsOf(expected);
    }

    @Test
    void existingSandboxesAreNotCreatedAgainButStillGetThePolicy() throws Exception {
        fake.exists("sandflow-1", "sandflow-3");

        pool.prepare(sandbox(Duration.ofSeconds(20)));

        assertThat(fake.argvs()).filteredOn(a -> a.get(1).equals("create")).extracting(a -> a.get(3))
                .containsExactly("sandflow-2", "sandflow-4");
        assertThat(fake.argvs()).filteredOn(a -> a.get(1).equals("policy")).hasSize(4);
        assertThat(fake.policyOf("sandflow-3")).containsExactlyElementsOf(HOSTS);
    }

    @Test
    void aFailingCreateIsOneSentenceAndThePoolGoesOnWithTheOtherThree() throws Exception {
        fake.failOn("sandflow-3", "create");

        Map<String, String> retired = pool.prepare(sandbox(Duration.ofSeconds(20)));

        assertThat(retired).containsOnlyKeys("sandflow-3");
        assertThat(retired.get("sandflow-3")).isEqualTo("sandbox sandflow-3: `sbx create` failed with exit 1: "
                + "error: sandbox sandflow-3: simulated failure of create");
        assertThat(pool.active()).isEqualTo(3);
        // No policy call for a sandbox that does not exist.
        assertThat(fake.argvs()).noneMatch(a -> a.get(1).equals("policy") && a.contains("sandflow-3"));
        List<String> leased = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            leased.add(pool.lease().sandboxName());
        }
        assertThat(leased).containsExactlyInAnyOrder("sandflow-1", "sandflow-2", "sandflow-4");
    }

    @Test
    void aHangingCallIsKilledAtTheCallTimeoutAndReportedInOneSentence() throws Exception {
        fake.hangOn("sandflow-2", "policy");
        Map<String, String> retired = pool.prepare(sandbox(Duration.ofMillis(800)));

        assertThat(retired).containsExactly(Map.entry("sandflow-2", "sandbox sandflow-2: `sbx policy allow network` "
                + "timed out after 800ms (sandflow.sandbox.call-timeout)"));
        // The hanging call was killed at its timeout; the other three were prepared
        assertThat(fake.policyOf("sandflow-4")).containsExactlyElementsOf(HOSTS);
        assertThat(pool.active()).isEqualTo(3);
    }

    @Test
    void whenNoSandboxCanBePreparedStartUpFailsWithOneSentence() throws Exception {
        for (int i = 1; i <= 4; i++) {
            fake.failOn("sandflow-" + i, null);
        }

        assertThatThrownBy(() -> pool.prepare(sandbox(Duration.ofSeconds(20))))
                .isInstanceOf(SandboxException.class)
                .hasMessage("no sbx sandbox is usable, so no agent can run; the first problem: sandbox sandflow-1: "
                        + "`sbx create` failed with exit 1: error: sandbox sandflow-1: simulated failure of create");
    }

    @Test
    void aMissingSandboxCliIsOneSentenceNamingTheCommand() {
        SbxSandbox missing = new SbxSandbox(dir.resolve("no-such/sbx").toString(), HOSTS, Duration.ofSeconds(5), runner);

        assertThatThrownBy(() -> missing.prepare(pool.all()))
                .isInstanceOf(SandboxException.class)
                .hasMessageStartingWith("`sbx ls` could not be run (")
                .hasMessageNotContaining("\n");
    }

    @Test
    void execPassesEnvironmentAsFlagsButNeverASecret() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("HOME", root(1) + "/home");
        env.put("ANTHROPIC_API_KEY", SECRET);
        env.put("GITHUB_TOKEN", SECRET);
        env.put("SANDFLOW_OUTPUT", root(1) + "/out/r.json");

        List<String> argv = sandbox(Duration.ofSeconds(5)).wrap(List.of("claude", "-p"), pool.all().get(0), env);

        assertThat(argv).containsExactly(fake.sbx(), "exec", "-i", "-e", "HOME=" + root(1) + "/home",
                "-e", "SANDFLOW_OUTPUT=" + root(1) + "/out/r.json", "sandflow-1", "claude", "-p");
        assertThat(String.join(" ", argv)).doesNotContain(SECRET).doesNotContain("ANTHROPIC_API_KEY");
    }

    @Test
    void theAgentRunsThroughExecAndItsResultComesBackWhileTheKeyStaysOffTheRecordedArgv() throws Exception {
        SbxSandbox sandbox = sandbox(Duration.ofSeconds(20));
        pool.prepare(sandbox);
        Workspace ws = pool.lease();
        Path agent = Path.of("src/test/resources/standin/standin-agent.sh").toAbsolutePath();
        Map<String, String> env = new LinkedHashMap<>();
        env.put("SANDFLOW_JOB_NAME", "job-1");
        env.put("ANTHROPIC_API_KEY", SECRET);

        ProcessOutcome outcome = runner.run(new ProcessSpec(sandbox.wrap(List.of(agent.toString()), ws, env), env,
                ws.root(), "the prompt".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(20), 1 << 20, 4096));

        assertThat(outcome.exitCode()).isZero();
        assertThat(outcome.stdoutText()).contains("\"subtype\":\"success\"").contains("standin");
        assertThat(sandbox.failureOf(ws, outcome)).isEmpty();
        assertThat(fake.argvs()).allSatisfy(a -> assertThat(String.join(" ", a)).doesNotContain(SECRET));
    }

    @Test
    void anExecThatFailsWithoutAnAnswerIsASandboxFailure() throws Exception {
        SbxSandbox sandbox = sandbox(Duration.ofSeconds(20));
        pool.prepare(sandbox);
        fake.failOn("sandflow-1", "exec");
        Workspace ws = pool.lease();

        ProcessOutcome outcome = runner.run(ProcessSpec.of(Duration.ofSeconds(20),
                sandbox.wrap(List.of("true"), ws, Map.of()).toArray(String[]::new)));

        assertThat(sandbox.failureOf(ws, outcome)).contains("sandbox sandflow-1: `sbx exec` failed with exit 1 and "
                + "printed nothing: error: sandbox sandflow-1: simulated failure of exec");
    }

    @Test
    void listingsOfSeveralShapesAreRead() {
        assertThat(CliSandbox.parseNames("[{\"name\":\"a\",\"status\":\"running\"},{\"Name\":\"b\"}]"))
                .containsExactly("a", "b");
        assertThat(CliSandbox.parseNames("{\"sandboxes\":[{\"name\":\"a\"}]}")).containsExactly("a");
        assertThat(CliSandbox.parseNames("[\"a\",\"b\"]")).containsExactly("a", "b");
        assertThat(CliSandbox.parseNames("{\"name\":\"a\"}\nwarning: update available\n{\"name\":\"b\"}\n"))
                .containsExactly("a", "b");
        assertThat(CliSandbox.parseNames("")).isEmpty();
        assertThat(CliSandbox.parseNames("null")).isEmpty();
    }
}
