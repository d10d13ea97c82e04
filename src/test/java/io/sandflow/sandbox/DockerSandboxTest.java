package io.sandflow.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.sandflow.process.ProcessRunner;

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
class DockerSandboxTest {

    private static final List<String> HOSTS = List.of("api.anthropic.com", "*.anthropic.com", "github.com");

    @TempDir
    Path dir;

    private FakeSandboxCli fake;
    private WorkerPool pool;

    @BeforeEach
    void setUp() throws Exception {
        fake = new FakeSandboxCli(dir.resolve("fake"));
        pool = new WorkerPool(dir.resolve("work"), WorkerPool.sandboxNames(4, List.of(), "sandflow-"));
    }

    private DockerSandbox sandbox(Duration timeout) {
        return new DockerSandbox(fake.docker(), HOSTS, timeout, new ProcessRunner());
    }

    private String root(int worker) {
        return dir.resolve("work/worker-" + worker).toAbsolutePath().toString();
    }

    @Test
    void preparingAPoolOfFourCreatesEachThenDeniesAllButTheAllowlist() throws Exception {
        assertThat(pool.prepare(sandbox(Duration.ofSeconds(20)))).isEmpty();

        List<List<String>> expected = new ArrayList<>();
        expected.add(List.of("docker", "sandbox", "ls", "--json"));
        for (int i = 1; i <= 4; i++) {
            String name = "sandflow-" + i;
            expected.add(List.of("docker", "sandbox", "create", "--name", name, "claude", root(i)));
            expected.add(List.of("docker", "sandbox", "network", "proxy", name, "--policy", "deny",
                    "--allow-host", "api.anthropic.com", "--allow-host", "*.anthropic.com", "--allow-host", "github.com"));
        }
        assertThat(fake.argvs()).containsExactlyElementsOf(expected);
    }

    @Test
    void aFailingPolicyMakesThatSandboxUnusableWithOneSentence() throws Exception {
        fake.failOn("sandflow-4", "network");

        Map<String, String> retired = pool.prepare(sandbox(Duration.ofSeconds(20)));

        assertThat(retired).containsExactly(Map.entry("sandflow-4", "sandbox sandflow-4: `docker sandbox network proxy` "
                + "failed with exit 1: error: sandbox sandflow-4: simulated failure of network"));
        assertThat(pool.active()).isEqualTo(3);
    }

    @Test
    void aHangingCreateIsCutAtTheCallTimeout() throws Exception {
        fake.hangOn("sandflow-1", "create");

        Map<String, String> retired = pool.prepare(sandbox(Duration.ofMillis(700)));

        assertThat(retired).containsExactly(Map.entry("sandflow-1", "sandbox sandflow-1: `docker sandbox create` "
                + "timed out after 700ms (sandflow.sandbox.call-timeout)"));
        assertThat(fake.argvs()).filteredOn(a -> a.get(2).equals("network")).hasSize(3);
    }

    @Test
    void execStartsTheAgentInItsWorkspaceAndKeepsSecretsOffTheArgv() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("TMPDIR", root(2) + "/tmp");
        env.put("ANTHROPIC_API_KEY", "sk-ant-test-only");
        env.put("DB_PASSWORD", "hunter2");

        List<String> argv = sandbox(Duration.ofSeconds(5)).wrap(List.of("claude", "-p", "--output-format", "json"),
                pool.all().get(1), env);

        assertThat(argv).containsExactly(fake.docker(), "sandbox", "exec", "-i", "-e", "TMPDIR=" + root(2) + "/tmp",
                "-w", root(2), "sandflow-2", "claude", "-p", "--output-format", "json");
    }
}
