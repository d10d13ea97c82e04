package io.sandflow.result;

import io.sandflow.job.Json;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import io.sandflow.agent.Envelope;
import io.sandflow.job.FailureClass;
import io.sandflow.job.JobFailure;
import io.sandflow.sandbox.WorkspaceFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the JSON result of a run: the structured output, else the file the agent was told to write
 * ({@code $SANDFLOW_OUTPUT}), else JSON in the result text (a plain agent's stdout). The file comes before the text
 * because writing it is deliberate, while text may quote JSON that is not the answer (a progress line, the input).
 * A result is always a JSON object: an array or a scalar is reported as invalid output, because every schema we
 * serve describes a record and the rules address its fields by pointer.
 */
public final class ResultExtractor {

    private static final Pattern FENCE = Pattern.compile("```[ \\t]*(?:json|JSON)?[ \\t]*\\r?\\n(.*?)```",
            Pattern.DOTALL);
    /** Largest output file read by {@link #ResultExtractor()}; a daemon passes sandflow.agent.max-output. */
    static final long DEFAULT_MAX_FILE_BYTES = 16L * 1024 * 1024;

    /**
     * How the file the agent was told to write is read: its bytes, or empty when it wrote none. An
     * {@link IOException} refuses the file; its message completes "the agent's output file …".
     */
    @FunctionalInterface
    public interface OutputFileReader {
        Optional<byte[]> read(Path file) throws IOException;
    }

    private final OutputFileReader outputFiles;

    /** Reads the output file in place, refusing links, non-regular and hard-linked files (for tests and tools). */
    public ResultExtractor() {
        this(file -> WorkspaceFiles.read(file, DEFAULT_MAX_FILE_BYTES));
    }

    /** @param outputFiles reads the agent's output file; a daemon takes it out of the workspace first */
    public ResultExtractor(OutputFileReader outputFiles) {
        this.outputFiles = outputFiles;
    }

    /**
     * @param agentOutputFile where the agent was told to write its JSON, or null when it was not asked to
     * @throws JobFailure (invalid output) when no JSON object is found
     */
    public JsonNode extract(Envelope env, Path agentOutputFile) {
        List<String> seen = new ArrayList<>();
        if (env != null && env.hasStructuredOutput()) {
            JsonNode structured = env.structuredOutput();
            if (structured.isTextual()) {
                structured = readOrNull(structured.asText());
            }
            if (structured != null && structured.isObject()) {
                return structured;
            }
            seen.add("the structured output is " + kind(structured));
        }
        // The file before the text: the text may quote JSON that is not the answer
        if (agentOutputFile != null) {
            Optional<byte[]> written = readOutputFile(agentOutputFile);
            if (written.isPresent()) {
                return fromFile(agentOutputFile, written.get());
            }
        }
        if (env != null && env.result() != null && !env.result().isBlank()) {
            JsonNode fromText = fromText(env.result(), seen);
            if (fromText != null) {
                return fromText;
            }
        }
        String noFile = agentOutputFile == null ? "no output file was expected"
                : "wrote no file at $SANDFLOW_OUTPUT (" + agentOutputFile + ")";
        String sentence = env != null && env.isPlainText()
                ? "the agent printed no JSON" + (env.result() == null ? " (nothing at all)" : "") + " and " + noFile
                : "the agent returned no structured output and no JSON in its result text, and " + noFile;
        if (!seen.isEmpty()) {
            sentence += " (" + String.join("; ", seen) + ")";
        }
        throw new JobFailure(FailureClass.INVALID_OUTPUT, sentence);
    }

    private static JsonNode fromText(String text, List<String> seen) {
        String trimmed = text.strip();
        JsonNode whole = readOrNull(trimmed);
        if (whole != null) {
            if (whole.isObject()) {
                return whole;
            }
            if (whole.isContainerNode()) {
                seen.add("the result text is " + kind(whole));
            }
        }
        Matcher fence = FENCE.matcher(text);
        while (fence.find()) {
            JsonNode block = readOrNull(fence.group(1).strip());
            if (block != null && block.isObject()) {
                return block;
            }
            if (block != null) {
                seen.add("a fenced block in the result text is " + kind(block));
            }
        }
        int open = text.indexOf('{');
        if (open >= 0) {
            // One value read from the first brace tolerates prose after it, even prose holding a '}'.
            JsonNode first = readFirstValue(text.substring(open));
            if (first != null && first.isObject()) {
                return first;
            }
            int close = text.lastIndexOf('}');
            if (close > open) {
                JsonNode span = readOrNull(text.substring(open, close + 1));
                if (span != null && span.isObject()) {
                    return span;
                }
            }
        }
        return null;
    }

    /**
     * The agent's output file, or empty when it wrote none. The file is the agent's to shape: a link, a folder, a
     * FIFO, a hard link or an oversized file is refused as invalid output, and nothing of what it points to is read.
     *
     * @throws JobFailure (invalid output) naming why the file was refused
     */
    public Optional<byte[]> readOutputFile(Path file) {
        try {
            return outputFiles.read(file);
        } catch (java.nio.file.NoSuchFileException gone) {
            return Optional.empty();
        } catch (IOException e) {
            String problem = e.getMessage() == null ? "could not be read" : e.getMessage();
            throw new JobFailure(FailureClass.INVALID_OUTPUT, "the agent's output file " + problem
                    + "; Sandflow reads only a regular file inside the workspace", e);
        }
    }

    private static JsonNode fromFile(Path file, byte[] bytes) {
        String content;
        try {
            content = StandardCharsets.UTF_8.newDecoder().onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new JobFailure(FailureClass.INVALID_OUTPUT, "the file the agent wrote at " + file
                    + " could not be read as UTF-8 (" + e.getClass().getSimpleName() + ")", e);
        }
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(content.startsWith("\uFEFF") ? content.substring(1) : content);
        } catch (IOException e) {
            throw new JobFailure(FailureClass.INVALID_OUTPUT, "the file the agent wrote at " + file
                    + " is not valid JSON: " + firstLine(e.getMessage()), e);
        }
        if (node == null || !node.isObject()) {
            throw new JobFailure(FailureClass.INVALID_OUTPUT, "the file the agent wrote at " + file
                    + (node == null || node.isMissingNode() ? " is empty" : " holds " + kind(node)));
        }
        return node;
    }

    private static JsonNode readOrNull(String text) {
        try {
            JsonNode node = Json.MAPPER.readTree(text);
            return node == null || node.isMissingNode() ? null : node;
        } catch (IOException e) {
            return null;
        }
    }

    private static JsonNode readFirstValue(String text) {
        try (JsonParser parser = Json.MAPPER.createParser(text)) {
            return parser.readValueAsTree();
        } catch (IOException e) {
            return null;
        }
    }

    private static String kind(JsonNode node) {
        if (node == null || node.isMissingNode()) {
            return "empty";
        }
        if (node.isArray()) {
            return "a JSON array, not an object";
        }
        if (node.isTextual()) {
            return "a string that is not a JSON object";
        }
        return "a JSON " + node.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + ", not an object";
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}
