package io.sandflow.agent;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AgentCommandTest {

    /** Claude Code with every optional flag unset and permission checks kept. */
    private static final AgentSettings CLAUDE = new AgentSettings("claude", List.of(), null, null, null, null, false,
            null, null, 2, null, true);

    private static final String SCHEMA = """
            {
              "type": "object",
              "required": ["درجة_الجودة"]
            }
            """;
    private static final String COMPACT = "{\"type\":\"object\",\"required\":[\"درجة_الجودة\"]}";

    @Test
    void minimalArgvHasOnlyTheFixedFlags() {
        assertThat(AgentCommand.argv(CLAUDE, SCHEMA)).containsExactly(
                "claude", "-p", "--output-format", "json", "--json-schema", COMPACT, "--no-session-persistence");
    }

    @Test
    void everyOptionalFlagAppearsInOrderWithExtraArgsLast() {
        AgentSettings s = new AgentSettings("/usr/local/bin/claude",
                AgentSettings.splitArgs("--settings '{\"verbose\": false}' --debug", "sandflow.agent.args"),
                "opus", "sonnet", 30, new BigDecimal("2.5"), true, "Read,Write,Bash", "Write JSON only.", 3,
                null, true);
        assertThat(AgentCommand.argv(s, SCHEMA)).containsExactly(
                "/usr/local/bin/claude", "-p", "--output-format", "json", "--json-schema", COMPACT,
                "--no-session-persistence",
                "--max-turns", "30",
                "--model", "opus",
                "--fallback-model", "sonnet",
                "--max-budget-usd", "2.5",
                "--tools", "Read,Write,Bash",
                "--dangerously-skip-permissions",
                "--append-system-prompt", "Write JSON only.",
                "--settings", "{\"verbose\": false}", "--debug");
    }

    @Test
    void toolsArePreApprovedWhenPermissionsAreNotSkipped() {
        AgentSettings s = new AgentSettings("claude", null, null, null, null, null, false, "Read,Write", null, 0, null,
                true);
        assertThat(AgentCommand.argv(s, SCHEMA)).containsSubsequence(
                "--tools", "Read,Write", "--allowedTools", "Read,Write")
                .doesNotContain("--dangerously-skip-permissions");
    }

    @Test
    void genericCommandGetsOnlyItsExtraArgs() {
        AgentSettings s = new AgentSettings("./fake-agent.sh", List.of("--mode", "a b", "$(rm -rf /)"), "opus",
                null, 5, null, true, "Read", "x", 0, null, false);
        assertThat(AgentCommand.argv(s, SCHEMA)).containsExactly("./fake-agent.sh", "--mode", "a b", "$(rm -rf /)");
    }

    @Test
    void theSchemaReachesTheCliWithoutItsDialectLine() {
        String schema = "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\", \"$id\": \"x\","
                + " \"type\": \"object\"}";
        assertThat(AgentCommand.argv(CLAUDE, schema))
                .containsSubsequence("--json-schema", "{\"$id\":\"x\",\"type\":\"object\"}");
    }

    @Test
    void noSchemaMeansNoSchemaFlag() {
        assertThat(AgentCommand.argv(CLAUDE, null)).doesNotContain("--json-schema");
    }

    @Test
    void invalidSchemaNamesTheSchemaKey() {
        assertThatThrownBy(() -> AgentCommand.argv(CLAUDE, "{not json"))
                .hasMessageStartingWith("sandflow.result.schema is not valid JSON");
    }

    @Test
    void environmentIsolatesTheCliAndNeverCarriesTheKey() {
        AgentSettings s = new AgentSettings("claude", null, null, null, null, null, true, null, null, 4,
                "http://127.0.0.1:9999", true);
        Map<String, String> env = AgentCommand.environment(s, Path.of("/w/1/home"), Path.of("/w/1/config"),
                Path.of("/w/1/tmp"));
        assertThat(env).containsExactly(
                Map.entry("HOME", "/w/1/home"),
                Map.entry("CLAUDE_CONFIG_DIR", "/w/1/config"),
                Map.entry("CLAUDE_CODE_TMPDIR", "/w/1/tmp"),
                Map.entry("TMPDIR", "/w/1/tmp"),
                Map.entry("CLAUDE_CODE_MAX_RETRIES", "4"),
                Map.entry("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"),
                Map.entry("ANTHROPIC_BASE_URL", "http://127.0.0.1:9999"),
                Map.entry("IS_SANDBOX", "1"));
        assertThat(env).doesNotContainKeys("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN");
    }

    @Test
    void environmentWithoutOptionsHasNoBaseUrlAndNoSandboxFlag() {
        Map<String, String> env = AgentCommand.environment(CLAUDE, Path.of("/h"), Path.of("/c"),
                Path.of("/t"));
        assertThat(env).doesNotContainKeys("ANTHROPIC_BASE_URL", "IS_SANDBOX", "ANTHROPIC_API_KEY")
                .containsEntry("CLAUDE_CODE_MAX_RETRIES", "2");
    }
}
