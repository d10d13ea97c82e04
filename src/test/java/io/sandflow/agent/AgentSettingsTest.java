package io.sandflow.agent;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AgentSettingsTest {

    private static AgentSettings withTurns(Integer turns) {
        return new AgentSettings("claude", List.of(), null, null, turns, null, false, null, null, 2, null, true);
    }

    @Test
    void zeroMaxTurnsIsRejectedNamingTheKey() {
        assertThatThrownBy(() -> withTurns(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("sandflow.agent.max-turns must be a positive whole number, got '0'");
    }

    @Test
    void nonNumericMaxTurnsFromPropertiesIsRejectedNamingTheKey() {
        assertThatThrownBy(() -> AgentSettings.fromProperties(required("sandflow.agent.max-turns", "ten")))
                .hasMessage("sandflow.agent.max-turns must be a positive whole number, got 'ten'");
    }

    @Test
    void nonPositiveBudgetIsRejected() {
        assertThatThrownBy(() -> new AgentSettings("claude", null, null, null, null, new BigDecimal("0"), false, null,
                null, 0, null, true))
                .hasMessageStartingWith("sandflow.agent.max-budget-usd must be a positive amount");
    }

    @Test
    void negativeCliRetriesAreRejected() {
        assertThatThrownBy(() -> new AgentSettings("claude", null, null, null, null, null, false, null, null, -1, null,
                true))
                .hasMessage("sandflow.agent.cli-retries must be zero or a positive whole number, got '-1'");
    }

    @Test
    void baseUrlMustBeHttp() {
        assertThatThrownBy(() -> new AgentSettings("claude", null, null, null, null, null, false, null, null, 0,
                "file:///etc/passwd", true))
                .hasMessageStartingWith("sandflow.agent.base-url must be an http or https URL");
    }

    @Test
    void fallbackEqualToModelIsRejected() {
        assertThatThrownBy(() -> new AgentSettings("claude", null, "opus", "opus", null, null, false, null, null, 0,
                null, true))
                .hasMessageStartingWith("sandflow.agent.fallback-model must differ");
    }

    @Test
    void badBooleanIsRejectedNamingTheKey() {
        assertThatThrownBy(() -> AgentSettings.fromProperties(required("sandflow.agent.skip-permissions", "yes")))
                .hasMessage("sandflow.agent.skip-permissions must be true or false, got 'yes'");
    }

    /** Every key, as the settings layer hands them over: its defaults file fills in what the user did not set. */
    private static Map<String, String> required(String... more) {
        Map<String, String> props = new java.util.HashMap<>(Map.of("sandflow.agent.command", "claude",
                "sandflow.agent.skip-permissions", "true", "sandflow.agent.cli-retries", "1",
                "sandflow.agent.contract", "claude"));
        for (int i = 0; i < more.length; i += 2) {
            props.put(more[i], more[i + 1]);
        }
        return props;
    }

    @Test
    void blankOptionalValuesAreUnset() {
        AgentSettings s = AgentSettings.fromProperties(required("sandflow.agent.model", " ",
                "sandflow.agent.max-turns", ""));
        assertThat(s.model()).isNull();
        assertThat(s.maxTurns()).isNull();
        assertThat(s.claudeContract()).isTrue();
    }

    @Test
    void aBlankRequiredValueIsRefusedNamingTheKey() {
        assertThatThrownBy(() -> AgentSettings.fromProperties(required("sandflow.agent.cli-retries", " ")))
                .hasMessage("sandflow.agent.cli-retries must not be empty");
        assertThatThrownBy(() -> AgentSettings.fromProperties(required("sandflow.agent.command", "")))
                .hasMessage("sandflow.agent.command must name the agent program");
    }

    @Test
    void theContractIgnoresCase() {
        assertThat(AgentSettings.claudeContract("Claude")).isTrue();
        assertThat(AgentSettings.claudeContract(" PLAIN ")).isFalse();
        assertThatThrownBy(() -> AgentSettings.claudeContract("codex"))
                .hasMessage("sandflow.agent.contract must be claude or plain, got 'codex'");
    }

    @Test
    void fromPropertiesReadsEveryKey() {
        AgentSettings s = AgentSettings.fromProperties(Map.ofEntries(
                Map.entry("sandflow.agent.command", "/opt/claude"),
                Map.entry("sandflow.agent.args", "--verbose --settings '{\"a\": 1}'"),
                Map.entry("sandflow.agent.model", "opus"),
                Map.entry("sandflow.agent.fallback-model", "sonnet"),
                Map.entry("sandflow.agent.max-turns", "40"),
                Map.entry("sandflow.agent.max-budget-usd", "1.50"),
                Map.entry("sandflow.agent.skip-permissions", "TRUE"),
                Map.entry("sandflow.agent.tools", "Read,Write,Bash"),
                Map.entry("sandflow.agent.append-system-prompt", "Answer in Arabic."),
                Map.entry("sandflow.agent.cli-retries", "0"),
                Map.entry("sandflow.agent.base-url", "http://127.0.0.1:8089"),
                Map.entry("sandflow.agent.contract", "plain")));
        assertThat(s).isEqualTo(new AgentSettings("/opt/claude", List.of("--verbose", "--settings", "{\"a\": 1}"),
                "opus", "sonnet", 40, new BigDecimal("1.50"), true, "Read,Write,Bash", "Answer in Arabic.", 0,
                "http://127.0.0.1:8089", false));
    }

    @Test
    void splitArgsHonoursQuotesAndEscapes() {
        assertThat(AgentSettings.splitArgs("  a  'b c' \"d \\\"e\\\" \\\\ $HOME\" f\\ g '' h'i'\"j\"  ", "k"))
                .containsExactly("a", "b c", "d \"e\" \\ $HOME", "f g", "", "hij");
    }

    @Test
    void splitArgsKeepsSingleQuotedBackslashesLiterally() {
        assertThat(AgentSettings.splitArgs("'a\\b' \"c\\d\"", "k")).containsExactly("a\\b", "c\\d");
    }

    @Test
    void splitArgsOfNothingIsEmpty() {
        assertThat(AgentSettings.splitArgs(null, "k")).isEmpty();
        assertThat(AgentSettings.splitArgs("   ", "k")).isEmpty();
    }

    @Test
    void unterminatedQuoteNamesTheKey() {
        assertThatThrownBy(() -> AgentSettings.splitArgs("--settings '{\"a\":1}", "sandflow.agent.args"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("sandflow.agent.args has an unterminated single quote");
        assertThatThrownBy(() -> AgentSettings.splitArgs("\"abc", "sandflow.agent.args"))
                .hasMessageStartingWith("sandflow.agent.args has an unterminated double quote");
        assertThatThrownBy(() -> AgentSettings.splitArgs("abc\\", "sandflow.agent.args"))
                .hasMessageStartingWith("sandflow.agent.args ends with a lone backslash");
    }
}
