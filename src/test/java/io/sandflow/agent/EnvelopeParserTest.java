package io.sandflow.agent;

import java.util.List;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;

import static org.assertj.core.api.Assertions.assertThat;

class EnvelopeParserTest {

    static final String SUCCESS = """
            {"type":"result","subtype":"success","is_error":false,"duration_ms":5123,"duration_api_ms":4410,
             "num_turns":3,"result":"{\\"درجة_الجودة\\":85}","session_id":"2f6c3a7e-1b1d-4c53-9d7e-0b5f4f1e2a10",
             "total_cost_usd":0.0421,"usage":{"input_tokens":1200,"cache_creation_input_tokens":300,
             "cache_read_input_tokens":4500,"output_tokens":250,"server_tool_use":{"web_search_requests":0}},
             "modelUsage":{"claude-sonnet-4-5":{"inputTokens":1200,"outputTokens":250}},
             "permission_denials":[{"tool_name":"Bash","tool_use_id":"toolu_01","tool_input":{"command":"ls"}}],
             "structured_output":{"درجة_الجودة":85,"تقدير_الجودة":"ممتاز"},
             "stop_reason":"end_turn","terminal_reason":"completed","uuid":"9d1e"}
            """;

    @Test
    void readsEveryFieldOfASuccessEnvelope() {
        Envelope env = EnvelopeParser.parse(SUCCESS);
        assertThat(env.isPresent()).isTrue();
        assertThat(env.isError()).isFalse();
        assertThat(env.subtype()).isEqualTo("success");
        assertThat(env.apiErrorStatus()).isNull();
        assertThat(env.result()).isEqualTo("{\"درجة_الجودة\":85}");
        assertThat(env.structuredOutput().get("تقدير_الجودة").asText()).isEqualTo("ممتاز");
        assertThat(env.totalCostUsd()).isEqualByComparingTo(new BigDecimal("0.0421"));
        assertThat(env.inputTokens()).isEqualTo(1200);
        assertThat(env.outputTokens()).isEqualTo(250);
        assertThat(env.cacheCreationInputTokens()).isEqualTo(300);
        assertThat(env.cacheReadInputTokens()).isEqualTo(4500);
        assertThat(env.numTurns()).isEqualTo(3);
        assertThat(env.durationMs()).isEqualTo(5123);
        assertThat(env.sessionId()).isEqualTo("2f6c3a7e-1b1d-4c53-9d7e-0b5f4f1e2a10");
        assertThat(env.stopReason()).isEqualTo("end_turn");
        assertThat(env.terminalReason()).isEqualTo("completed");
        assertThat(env.permissionDenials()).isEqualTo(1);
        assertThat(env.errors()).isEmpty();
    }

    @Test
    void takesTheLastResultEventOfAnArray() {
        String verbose = """
                [{"type":"system","subtype":"init","session_id":"s1","tools":["Read"]},
                 {"type":"assistant","message":{"content":[{"type":"text","text":"working"}]}},
                 {"type":"result","subtype":"success","is_error":true,"result":"stale","num_turns":1},
                 {"type":"result","subtype":"success","is_error":false,"result":"done","num_turns":2},
                 {"type":"system","subtype":"shutdown"}]
                """;
        Envelope env = EnvelopeParser.parse(verbose);
        assertThat(env.isPresent()).isTrue();
        assertThat(env.result()).isEqualTo("done");
        assertThat(env.numTurns()).isEqualTo(2);
    }

    @Test
    void findsTheEnvelopeAfterLogNoise() {
        String noisy = "Warning: no stdin data received in 3s, proceeding without it.\n"
                + "{\"debug\": \"not an envelope\"}\n"
                + "[sandbox] network allowlist: api.anthropic.com\n"
                + SUCCESS.strip() + "\n";
        Envelope env = EnvelopeParser.parse(noisy);
        assertThat(env.isPresent()).isTrue();
        assertThat(env.sessionId()).isEqualTo("2f6c3a7e-1b1d-4c53-9d7e-0b5f4f1e2a10");
    }

    @Test
    void findsAPrettyPrintedEnvelopeAfterNoiseAndIgnoresTrailingText() {
        String noisy = """
                starting agent…
                {
                  "type": "result",
                  "subtype": "error_max_turns",
                  "is_error": true,
                  "errors": ["Reached maximum number of turns (4)"],
                  "permission_denials": [
                    {"tool_name": "Write"}
                  ]
                }
                bye
                """;
        Envelope env = EnvelopeParser.parse(noisy);
        assertThat(env.subtype()).isEqualTo("error_max_turns");
        assertThat(env.errors()).containsExactly("Reached maximum number of turns (4)");
        assertThat(env.permissionDenials()).isEqualTo(1);
    }

    @Test
    void emptyOrBlankOutputIsAbsent() {
        assertThat(EnvelopeParser.parse("")).isEqualTo(Envelope.absent("empty output"));
        assertThat(EnvelopeParser.parse(" \n\t ").presence()).isEqualTo(Envelope.Presence.EMPTY);
        assertThat(EnvelopeParser.parse(null).absentReason()).isEqualTo("empty output");
    }

    @Test
    void nonJsonOutputIsNotJsonWithTheFirst200Characters() {
        String junk = "Error: something went wrong " + "x".repeat(400);
        Envelope env = EnvelopeParser.parse(junk);
        assertThat(env.presence()).isEqualTo(Envelope.Presence.NOT_JSON);
        assertThat(env.absentReason()).isEqualTo("output is not a JSON envelope: " + junk.substring(0, 200) + "…");
    }

    @Test
    void jsonThatIsNotAnEnvelopeIsNotJson() {
        assertThat(EnvelopeParser.parse("{\"hello\": 1}").presence()).isEqualTo(Envelope.Presence.NOT_JSON);
        assertThat(EnvelopeParser.parse("42").presence()).isEqualTo(Envelope.Presence.NOT_JSON);
        assertThat(EnvelopeParser.parse("[{\"type\":\"assistant\"}]").presence())
                .isEqualTo(Envelope.Presence.NOT_JSON);
    }

    @Test
    void toleratesWrongTypesNullsAndNumbersAsStrings() {
        String odd = """
                {"type":"result","subtype":null,"is_error":"true","api_error_status":"529",
                 "result":{"text":"object instead of string"},"errors":"single error",
                 "total_cost_usd":"0.5","num_turns":"7","duration_ms":null,"usage":"none",
                 "session_id":12,"permission_denials":3,"structured_output":null}
                """;
        Envelope env = EnvelopeParser.parse(odd);
        assertThat(env.isPresent()).isTrue();
        assertThat(env.isError()).isTrue();
        assertThat(env.subtype()).isNull();
        assertThat(env.apiErrorStatus()).isEqualTo(529);
        assertThat(env.result()).isEqualTo("{\"text\":\"object instead of string\"}");
        assertThat(env.errors()).containsExactly("single error");
        assertThat(env.totalCostUsd()).isEqualByComparingTo("0.5");
        assertThat(env.numTurns()).isEqualTo(7);
        assertThat(env.durationMs()).isZero();
        assertThat(env.inputTokens()).isZero();
        assertThat(env.sessionId()).isEqualTo("12");
        assertThat(env.permissionDenials()).isEqualTo(3);
        assertThat(env.hasStructuredOutput()).isFalse();
    }

    @Test
    void garbageNumbersBecomeDefaults() {
        Envelope env = EnvelopeParser.parse(
                "{\"type\":\"result\",\"is_error\":false,\"api_error_status\":\"abc\",\"total_cost_usd\":[1],"
                        + "\"num_turns\":1e40,\"usage\":{\"input_tokens\":-5}}");
        assertThat(env.apiErrorStatus()).isNull();
        assertThat(env.totalCostUsd()).isZero();
        assertThat(env.inputTokens()).isZero();
        assertThat(env.isPresent()).isTrue();
    }

    @Test
    void truncatedJsonIsNotJson() {
        assertThat(EnvelopeParser.parse("{\"type\":\"result\",\"is_error\":fal").presence())
                .isEqualTo(Envelope.Presence.NOT_JSON);
    }

    @Test
    void underThePlainContractOutputWithoutAnEnvelopeIsText() {
        Envelope text = EnvelopeParser.parse("  {\"summary\": \"x\"}\n", "a warning\n", false);

        assertThat(text.presence()).isEqualTo(Envelope.Presence.TEXT);
        assertThat(text.isError()).isFalse();
        assertThat(text.result()).isEqualTo("{\"summary\": \"x\"}");
        assertThat(text.errors()).containsExactly("a warning");
        assertThat(EnvelopeParser.parse("", "", false).result()).isNull();
        assertThat(EnvelopeParser.parse("{\"type\":\"result\",\"is_error\":true}", "", false).presence())
                .isEqualTo(Envelope.Presence.PRESENT);
        assertThat(EnvelopeParser.parse("{\"summary\": \"x\"}", "", true).presence())
                .as("the claude contract still needs an envelope").isEqualTo(Envelope.Presence.NOT_JSON);
    }

    /** A plain agent's result may well have a field named like an envelope's: only "type": "result" is one. */
    @Test
    void underThePlainContractAResultWithEnvelopeLikeFieldsIsText() {
        for (String result : List.of("{\"subtype\": \"dialect\", \"summary\": \"x\"}",
                "{\"is_error\": true, \"summary\": \"x\"}", "{\"structured_output\": 1, \"summary\": \"x\"}")) {
            Envelope read = EnvelopeParser.parse(result + "\n", "", false);

            assertThat(read.presence()).as(result).isEqualTo(Envelope.Presence.TEXT);
            assertThat(read.isError()).as(result).isFalse();
            assertThat(read.result()).isEqualTo(result);
        }
    }

    /**
     * Lines of '[' before a long array: each line would be a try that reads to the end of the output. The search
     * reads at most four times the output, and an envelope on the last line is still found after such noise.
     */
    @Test
    void theSearchAmongLinesReadsABoundedMultipleOfTheOutput() {
        String noise = "[\n".repeat(500) + "1,".repeat(100_000) + "1\n";
        long[] read = {0};

        assertThat(EnvelopeParser.find(noise, true, read)).isNull();
        assertThat(read[0]).as("characters parsed").isLessThanOrEqualTo(6L * noise.length());

        String envelope = "{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"result\":\"ok\"}";
        assertThat(EnvelopeParser.find(noise + envelope, true, new long[1])).isNotNull()
                .satisfies(e -> assertThat(e.result()).isEqualTo("ok"));
    }
}
