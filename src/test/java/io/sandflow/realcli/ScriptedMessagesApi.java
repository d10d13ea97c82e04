package io.sandflow.realcli;

import io.sandflow.job.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A scripted stand-in for the Anthropic Messages API on 127.0.0.1, for tests that drive the real Claude Code CLI
 * offline. It keeps no conversation state: the answer to a request is the script's step at the number of
 * assistant messages the request already holds, so a request the CLI retries gets the same answer again. Steps past
 * the end of the script repeat the last one, which is how a model that "never gets it right" is written.
 * Every request is logged so that tests can assert what the CLI sent (the prompt, tool results, headers).
 */
final class ScriptedMessagesApi implements AutoCloseable {

    private static final ObjectMapper JSON = Json.MAPPER;
    /** Arbitrary but fixed token counts, so tests can check that the ledger sums what the envelopes reported. */
    static final int INPUT_TOKENS = 100;
    static final int OUTPUT_TOKENS = 20;

    /** One answer of the model: chosen per request, may depend on it (e.g. a path read from the prompt). */
    @FunctionalInterface
    interface Step {
        Turn answer(Request request);
    }

    /** What the stand-in does for one model turn. */
    sealed interface Turn extends Step {
        @Override
        default Turn answer(Request request) {
            return this;
        }
    }

    /** An assistant message made of text and tool_use blocks. */
    record Reply(List<ObjectNode> blocks) implements Turn {
        String stopReason() {
            return blocks.stream().anyMatch(b -> "tool_use".equals(b.path("type").asText())) ? "tool_use" : "end_turn";
        }
    }

    /** An HTTP error with the API's error body; {@code retryAfterSeconds} is sent when not null. */
    record HttpError(int status, String type, String message, Integer retryAfterSeconds) implements Turn {
    }

    /** A stream that starts and then breaks off in the middle of a content block. */
    record BrokenStream() implements Turn {
    }

    /** One request as received. */
    record Request(String method, String path, Map<String, List<String>> headers, JsonNode body) {

        String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(e -> e.getValue().isEmpty() ? null : e.getValue().get(0)).findFirst().orElse(null);
        }

        boolean isMessages() {
            return "POST".equals(method) && path.startsWith("/v1/messages") && !path.contains("count_tokens");
        }

        int assistantTurns() {
            int n = 0;
            for (JsonNode m : body.path("messages")) {
                if ("assistant".equals(m.path("role").asText())) {
                    n++;
                }
            }
            return n;
        }

        /** The names of the tools the CLI offered the model. */
        List<String> toolNames() {
            List<String> names = new ArrayList<>();
            body.path("tools").forEach(t -> names.add(t.path("name").asText()));
            return names;
        }

        /** All text of the user messages, tool results included: what the model was told. */
        String userText() {
            StringBuilder out = new StringBuilder();
            for (JsonNode m : body.path("messages")) {
                if (!"user".equals(m.path("role").asText())) {
                    continue;
                }
                collectText(m.path("content"), out);
            }
            return out.toString();
        }

        /** The tool_result blocks of the last user message. */
        List<JsonNode> lastToolResults() {
            List<JsonNode> results = new ArrayList<>();
            JsonNode messages = body.path("messages");
            for (int i = messages.size() - 1; i >= 0; i--) {
                JsonNode m = messages.get(i);
                if ("user".equals(m.path("role").asText())) {
                    for (JsonNode block : m.path("content")) {
                        if ("tool_result".equals(block.path("type").asText())) {
                            results.add(block);
                        }
                    }
                    if (!results.isEmpty()) {
                        break;
                    }
                }
            }
            return results;
        }

        private static void collectText(JsonNode content, StringBuilder out) {
            if (content.isTextual()) {
                out.append(content.asText()).append('\n');
            } else if (content.isArray()) {
                for (JsonNode block : content) {
                    if (block.has("text")) {
                        out.append(block.path("text").asText()).append('\n');
                    }
                    if (block.has("content")) {
                        collectText(block.path("content"), out);
                    }
                }
            }
        }
    }

    static Reply text(String text) {
        ObjectNode block = JSON.createObjectNode().put("type", "text").put("text", text);
        return new Reply(List.of(block));
    }

    static Reply tool(String name, Object input) {
        ObjectNode block = JSON.createObjectNode().put("type", "tool_use")
                .put("id", "toolu_" + Integer.toHexString(TOOL_IDS.incrementAndGet()) + "sandflowtest").put("name", name);
        block.set("input", JSON.valueToTree(input));
        return new Reply(List.of(block));
    }

    /** The call the CLI adds for {@code --json-schema}: the model hands in its final answer. */
    static Reply structuredOutput(Object result) {
        return tool("StructuredOutput", result);
    }

    static HttpError error(int status, String type, String message) {
        return new HttpError(status, type, message, null);
    }

    /**
     * Answers the first {@code times} requests that reach this step with {@code failure}, then {@code then}. The one
     * deliberate exception to statelessness: "fails twice, then works" cannot be told from the request alone.
     */
    static Step failFirst(int times, Turn failure, Step then) {
        AtomicInteger seen = new AtomicInteger();
        return request -> seen.incrementAndGet() <= times ? failure : then.answer(request);
    }

    private static final AtomicInteger TOOL_IDS = new AtomicInteger(0x1000);

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "scripted-messages-api");
        t.setDaemon(true);
        return t;
    });
    private final List<Request> log = new CopyOnWriteArrayList<>();
    private volatile List<Step> script = List.of(text("(no script)"));

    ScriptedMessagesApi() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    /** Replaces the script; step i answers requests that already hold i assistant messages. */
    ScriptedMessagesApi script(Step... steps) {
        if (steps.length == 0) {
            throw new IllegalArgumentException("a script needs at least one step");
        }
        this.script = List.of(steps);
        return this;
    }

    int port() {
        return server.getAddress().getPort();
    }

    String baseUrl() {
        return "http://127.0.0.1:" + port();
    }

    /** Every request received, in order of arrival. */
    List<Request> requests() {
        return List.copyOf(log);
    }

    /** The Messages API calls only (no HEAD probes). */
    List<Request> messageRequests() {
        return log.stream().filter(Request::isMessages).toList();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    /**
     * For bench/realcli-overhead.sh: an instant model that answers the default schema at once, on a free port that
     * it prints, until its stdin closes.
     */
    public static void main(String[] args) throws IOException {
        try (ScriptedMessagesApi api = new ScriptedMessagesApi()) {
            api.script(structuredOutput(Map.of("summary", "An instant answer.", "tags", List.of("bench"))),
                    text("Done."));
            System.out.println(api.port());
            System.out.flush();
            while (System.in.read() >= 0) {
                // serve until the caller closes our stdin
            }
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            byte[] raw = ex.getRequestBody().readAllBytes();
            JsonNode body = raw.length == 0 ? JSON.createObjectNode() : readJson(raw);
            Request request = new Request(ex.getRequestMethod(), ex.getRequestURI().toString(),
                    Map.copyOf(ex.getRequestHeaders()), body);
            log.add(request);
            if ("HEAD".equals(request.method())) {
                // The CLI probes the base URL once before its first call.
                ex.sendResponseHeaders(200, -1);
                return;
            }
            if (!request.isMessages()) {
                sendJson(ex, 404, errorBody("not_found_error", "the stand-in serves only POST /v1/messages"));
                return;
            }
            List<Step> steps = script;
            int turn = Math.min(request.assistantTurns(), steps.size() - 1);
            Turn answer = steps.get(turn).answer(request);
            boolean stream = body.path("stream").asBoolean(false);
            if (answer instanceof HttpError e) {
                if (e.retryAfterSeconds() != null) {
                    ex.getResponseHeaders().add("retry-after", e.retryAfterSeconds().toString());
                }
                sendJson(ex, e.status(), errorBody(e.type(), e.message()));
            } else if (answer instanceof BrokenStream) {
                breakStream(ex);
            } else if (stream) {
                sendStream(ex, (Reply) answer);
            } else {
                sendJson(ex, 200, message((Reply) answer, true));
            }
        }
    }

    private static JsonNode readJson(byte[] raw) {
        try {
            return JSON.readTree(raw);
        } catch (IOException e) {
            return JSON.createObjectNode().put("unparsed", new String(raw, StandardCharsets.UTF_8));
        }
    }

    private static ObjectNode errorBody(String type, String message) {
        ObjectNode body = JSON.createObjectNode().put("type", "error");
        body.putObject("error").put("type", type).put("message", message);
        return body;
    }

    /** A whole Message, or with {@code complete=false} the empty shell that message_start carries. */
    private static ObjectNode message(Reply r, boolean complete) {
        ObjectNode m = JSON.createObjectNode()
                .put("id", "msg_sandflowtest" + TOOL_IDS.incrementAndGet())
                .put("type", "message").put("role", "assistant").put("model", "claude-sonnet-4-5");
        ArrayNode content = m.putArray("content");
        if (complete) {
            r.blocks().forEach(content::add);
            m.put("stop_reason", r.stopReason());
        } else {
            m.putNull("stop_reason");
        }
        m.putNull("stop_sequence");
        m.putObject("usage").put("input_tokens", INPUT_TOKENS).put("output_tokens", complete ? OUTPUT_TOKENS : 1)
                .put("cache_creation_input_tokens", 0).put("cache_read_input_tokens", 0);
        return m;
    }

    private static void sendJson(HttpExchange ex, int status, JsonNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().add("content-type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        ex.getResponseBody().write(bytes);
    }

    private static void sendStream(HttpExchange ex, Reply r) throws IOException {
        ex.getResponseHeaders().add("content-type", "text/event-stream");
        ex.getResponseHeaders().add("cache-control", "no-cache");
        ex.sendResponseHeaders(200, 0);
        OutputStream out = ex.getResponseBody();
        event(out, "message_start", JSON.createObjectNode().put("type", "message_start").set("message", message(r, false)));
        for (int i = 0; i < r.blocks().size(); i++) {
            ObjectNode block = r.blocks().get(i);
            boolean isTool = "tool_use".equals(block.path("type").asText());
            // The block opens empty; its content follows as one delta, as the real API streams it in pieces.
            ObjectNode start = block.deepCopy();
            ObjectNode delta = JSON.createObjectNode();
            if (isTool) {
                start.set("input", JSON.createObjectNode());
                delta.put("type", "input_json_delta").put("partial_json", JSON.writeValueAsString(block.path("input")));
            } else {
                start.put("text", "");
                delta.put("type", "text_delta").put("text", block.path("text").asText());
            }
            event(out, "content_block_start", JSON.createObjectNode().put("type", "content_block_start")
                    .put("index", i).set("content_block", start));
            event(out, "content_block_delta", JSON.createObjectNode().put("type", "content_block_delta")
                    .put("index", i).set("delta", delta));
            event(out, "content_block_stop", JSON.createObjectNode().put("type", "content_block_stop").put("index", i));
        }
        ObjectNode messageDelta = JSON.createObjectNode().put("type", "message_delta");
        messageDelta.putObject("delta").put("stop_reason", r.stopReason()).putNull("stop_sequence");
        messageDelta.putObject("usage").put("output_tokens", OUTPUT_TOKENS);
        event(out, "message_delta", messageDelta);
        event(out, "message_stop", JSON.createObjectNode().put("type", "message_stop"));
    }

    /**
     * Announces a longer body than it sends, then closes: the client sees the connection drop mid-message, which is
     * what a dead proxy or a network cut looks like (a chunked stream closed cleanly would look complete).
     */
    private static void breakStream(HttpExchange ex) throws IOException {
        ex.getResponseHeaders().add("content-type", "text/event-stream");
        ex.sendResponseHeaders(200, 1 << 20);
        OutputStream out = ex.getResponseBody();
        Reply partial = text("this answer is cut off");
        event(out, "message_start", JSON.createObjectNode().put("type", "message_start")
                .set("message", message(partial, false)));
        ObjectNode start = JSON.createObjectNode().put("type", "text").put("text", "");
        event(out, "content_block_start", JSON.createObjectNode().put("type", "content_block_start").put("index", 0)
                .set("content_block", start));
        out.flush();
        // Closing the exchange now throws ("insufficient bytes written") and drops the connection: that is the point.
    }

    private static void event(OutputStream out, String name, JsonNode data) throws IOException {
        out.write(("event: " + name + "\ndata: " + JSON.writeValueAsString(data) + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }
}
