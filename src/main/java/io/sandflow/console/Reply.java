package io.sandflow.console;

import java.nio.charset.StandardCharsets;

/** What the console answers one request with: an HTTP status, a content type and the body. */
public record Reply(int status, String contentType, byte[] body) {

    static final String JSON = "application/json; charset=utf-8";

    static Reply json(int status, String text) {
        return new Reply(status, JSON, text.getBytes(StandardCharsets.UTF_8));
    }

    /** An error the page shows as it is: {"error": message}. */
    static Reply error(int status, String message) {
        var node = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("error", message);
        return json(status, node.toString());
    }

    public String text() {
        return new String(body, StandardCharsets.UTF_8);
    }
}
