package io.sandflow.config;

import io.sandflow.cli.DemoCommand;
import static org.assertj.core.api.Assertions.assertThat;

import io.sandflow.sandbox.NoSandbox;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No profile Sandflow ships can run an agent outside a sandbox; only the user's own settings can turn it off. The
 * demo runs its own demo agent unsandboxed, and no other.
 */
class ShippedProfilesSandboxTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"demo", "masader"})
    void aBuiltInProfileWithTheRealAgentRunsItSandboxed(String profile) {
        Settings settings = Settings.load(dir, null, List.of(profile), Map.of("sandflow.agent.command", "claude"));

        assertThat(SandflowConfig.of(settings).sandbox().sandbox().isolated()).as(profile).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"demo", "masader"})
    void theShippedProfileFileInTheWorkingFolderRunsTheAgentSandboxedToo(String profile) throws Exception {
        String name = "application-" + profile + ".properties";
        Files.copy(Path.of(name), dir.resolve(name));
        Settings settings = Settings.load(dir, null, List.of(profile), Map.of("sandflow.agent.command", "claude"));

        assertThat(SandflowConfig.of(settings).sandbox().sandbox().isolated()).as(profile).isTrue();
    }

    @Test
    void theDemoCommandRunsOnlyItsOwnAgentUnsandboxed() {
        Map<String, String> demo = DemoCommand.settings(Map.of(), "/opt/sandflow/bin/demo-agent");
        Map<String, String> other = DemoCommand.settings(Map.of("sandflow.agent.command", "claude"),
                "/opt/sandflow/bin/demo-agent");

        assertThat(demo).containsEntry("sandflow.agent.command", "/opt/sandflow/bin/demo-agent")
                .containsEntry("sandflow.sandbox.kind", "none");
        assertThat(SandflowConfig.of(Settings.load(dir, null, List.of("demo"), other)).sandbox().sandbox().isolated()).isTrue();
    }

    @Test
    void theUsersOwnProfileMayTurnTheSandboxOff() throws Exception {
        Files.writeString(dir.resolve("application-mine.properties"),
                "sandflow.sandbox.kind=none\nsandflow.sandbox.allow-unsandboxed=true\n");
        Settings settings = Settings.load(dir, null, List.of("mine"), Map.of());

        assertThat(SandflowConfig.of(settings).sandbox().sandbox()).isInstanceOf(NoSandbox.class);
    }
}
