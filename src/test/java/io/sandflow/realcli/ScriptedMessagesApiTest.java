package io.sandflow.realcli;

import io.sandflow.job.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.sandflow.realcli.ScriptedMessagesApi.error;
import static io.sandflow.realcli.ScriptedMessagesApi.structuredOutput;
import static io.sandflow.realcli.ScriptedMessagesApi.text;
import static io.sandflow.realcli.ScriptedMessagesApi.tool;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The stand-in itself, without the CLI: so that a real-CLI test failing points at the CLI or Sandflow, not here. */
class ScriptedMessagesApiTest {

    private static final ObjectMapper JSON = Json.MAPPER;
    private static final Pattern EVENT = Pattern.compile("event: (\\w+)\ndata: (.*)\n\n");

    ScriptedMessagesApi api;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws IOException {
        api = new ScriptedMessagesApi();
    }

    @AfterEach
    void stop() {
        api.close();
    }

    @Test
    void theTurnIsTheNumberOfAssistantMessagesSoARetryGetsTheSameAnswer() throws Exception {
        api.script(tool("Read", Map.of("file_path", "/x")), text("second"));

        List<String> first = eventNames(post(conversation(0), true).body());
        List<String> again = eventNames(post(conversation(0), true).body());
        JsonNode second = JSON.readTree(post(conversation(1), false).body());
        JsonNode beyond = JSON.readTree(post(conversation(5), false).body());

        assertThat(first).containsExactly("message_start", "content_block_start", "content_block_delta",
                "content_block_stop", "message_delta", "message_stop");
        assertThat(again).isEqualTo(first);
        assertThat(second.path("content").get(0).path("text").asText()).isEqualTo("second");
        assertThat(second.path("stop_reason").asText()).isEqualTo("end_turn");
        assertThat(beyond.path("content").get(0).path("text").asText()).as("the last step repeats").isEqualTo("second");
        assertThat(api.messageRequests()).hasSize(4);
    }

    @Test
    void aToolCallStreamsItsInputAsOneJsonDeltaAndStopsForTheTool() throws Exception {
        api.script(structuredOutput(Map.of("summary", "s")));

        String body = post(conversation(0), true).body();

        Matcher m = EVENT.matcher(body);
        JsonNode start = null;
        JsonNode delta = null;
        JsonNode messageDelta = null;
        while (m.find()) {
            JsonNode data = JSON.readTree(m.group(2));
            switch (m.group(1)) {
                case "content_block_start" -> start = data.path("content_block");
                case "content_block_delta" -> delta = data.path("delta");
                case "message_delta" -> messageDelta = data;
                default -> { }
            }
        }
        assertThat(start.path("type").asText()).isEqualTo("tool_use");
        assertThat(start.path("name").asText()).isEqualTo("StructuredOutput");
        assertThat(start.path("input").size()).isZero();
        assertThat(JSON.readTree(delta.path("partial_json").asText())).isEqualTo(JSON.valueToTree(Map.of("summary", "s")));
        assertThat(messageDelta.path("delta").path("stop_reason").asText()).isEqualTo("tool_use");
        assertThat(messageDelta.path("usage").path("output_tokens").asInt()).isEqualTo(ScriptedMessagesApi.OUTPUT_TOKENS);
    }

    @Test
    void errorsCarryTheApiErrorBodyAndRetryAfter() throws Exception {
        api.script(new ScriptedMessagesApi.HttpError(429, "rate_limit_error", "slow down", 7), error(529, "overloaded_error", "busy"));

        HttpResponse<String> limited = post(conversation(0), true);
        HttpResponse<String> overloaded = post(conversation(1), true);

        assertThat(limited.statusCode()).isEqualTo(429);
        assertThat(limited.headers().firstValue("retry-after")).contains("7");
        assertThat(JSON.readTree(limited.body()).path("error").path("type").asText()).isEqualTo("rate_limit_error");
        assertThat(overloaded.statusCode()).isEqualTo(529);
        assertThat(overloaded.headers().firstValue("retry-after")).isEmpty();
    }

    @Test
    void aBrokenStreamEndsBeforeTheMessageDoes() {
        api.script(new ScriptedMessagesApi.BrokenStream());

        assertThatThrownBy(() -> post(conversation(0), true)).isInstanceOf(IOException.class);
        assertThat(api.messageRequests()).hasSize(1);
    }

    @Test
    void theProbeIsAnsweredAndLoggedButIsNoMessagesCall() throws Exception {
        HttpResponse<Void> head = http.send(HttpRequest.newBuilder(URI.create(api.baseUrl() + "/"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());

        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(api.requests()).hasSize(1);
        assertThat(api.messageRequests()).isEmpty();
    }

    private HttpResponse<String> post(String messages, boolean stream) throws IOException, InterruptedException {
        String body = "{\"model\":\"m\",\"stream\":" + stream + ",\"messages\":" + messages + "}";
        return http.send(HttpRequest.newBuilder(URI.create(api.baseUrl() + "/v1/messages?beta=true"))
                .header("x-api-key", "test-key").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** A user message, then {@code assistants} assistant/user pairs. */
    private static String conversation(int assistants) {
        StringBuilder m = new StringBuilder("[{\"role\":\"user\",\"content\":\"go\"}");
        for (int i = 0; i < assistants; i++) {
            m.append(",{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"a\"}]}")
                    .append(",{\"role\":\"user\",\"content\":\"more\"}");
        }
        return m.append(']').toString();
    }

    private static List<String> eventNames(String sse) {
        Matcher m = EVENT.matcher(sse);
        List<String> names = new java.util.ArrayList<>();
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }
}
