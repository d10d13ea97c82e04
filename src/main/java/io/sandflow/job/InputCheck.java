package io.sandflow.job;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The checks an input must pass before any agent sees it. Each refusal is permanent for that file:
 * re-running the agent cannot make an empty or oversized file acceptable.
 */
public final class InputCheck {


    private final long maxBytes;
    private final boolean requireJson;

    public InputCheck(long maxBytes, boolean requireJson) {
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("sandflow.input.max-bytes must be positive, got " + maxBytes);
        }
        this.maxBytes = maxBytes;
        this.requireJson = requireJson;
    }

    /** Checks the size before the content is read, so a huge file is never loaded. */
    public void checkSize(long size) {
        if (size == 0) {
            throw new JobFailure(FailureClass.PERMANENT, "the input is empty");
        }
        if (size > maxBytes) {
            throw new JobFailure(FailureClass.PERMANENT,
                    "the input has " + size + " bytes, more than sandflow.input.max-bytes=" + maxBytes);
        }
    }

    /**
     * @return the content as text and, when JSON is required, the parsed value
     */
    public Checked check(byte[] content) {
        checkSize(content.length);
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(content))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new JobFailure(FailureClass.PERMANENT, "the input is not valid UTF-8 text");
        }
        if (text.isBlank()) {
            throw new JobFailure(FailureClass.PERMANENT, "the input holds only white space");
        }
        JsonNode json = null;
        if (requireJson) {
            try {
                json = Json.MAPPER.readTree(text);
            } catch (JsonProcessingException e) {
                throw new JobFailure(FailureClass.PERMANENT, "the input is not valid JSON: "
                        + e.getOriginalMessage() + " at line " + e.getLocation().getLineNr()
                        + ", column " + e.getLocation().getColumnNr());
            }
        }
        return new Checked(text, json);
    }

    /** An input that passed: its text and, when JSON, the parsed value. */
    public record Checked(String text, JsonNode json) {
    }
}
