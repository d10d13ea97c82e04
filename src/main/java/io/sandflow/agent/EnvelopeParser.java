package io.sandflow.agent;

import io.sandflow.job.Json;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the agent CLI's stdout into an {@link Envelope}. Defensive by design: whatever was printed, it returns an
 * envelope or an absent one, and never throws.
 */
public final class EnvelopeParser {

    private static final int SNIPPET = 200;
    /** Bounds the work on a huge noisy output; the envelope is printed last, so it is among the last candidates. */
    private static final int MAX_CANDIDATES = 500;
    /** How many times the output's length the line-by-line search may parse in all. */
    private static final int READ_BUDGET = 4;

    private EnvelopeParser() {
    }

    /**
     * What an agent printed, read by its contract. Under the plain contract an envelope is still honoured; without
     * one, stdout is the answer's text ({@link Envelope#text}) and the exit code decides, so that an agent may print
     * the result JSON, or write {@code $SANDFLOW_OUTPUT} and print nothing or anything.
     *
     * @param stderrTail the last of stderr, quoted when a plain agent fails
     */
    public static Envelope parse(String stdout, String stderrTail, boolean claudeContract) {
        if (claudeContract) {
            return parse(stdout);
        }
        if (stdout == null || stdout.isBlank()) {
            return Envelope.text(null, stderrTail);
        }
        Envelope found = find(stdout.strip(), false, new long[1]);
        return found != null ? found : Envelope.text(stdout, stderrTail);
    }

    /** Claude Code's contract: the output must hold a result envelope. */
    public static Envelope parse(String stdout) {
        if (stdout == null || stdout.isBlank()) {
            return Envelope.absent("empty output");
        }
        String text = stdout.strip();
        Envelope found = find(text, true, new long[1]);
        if (found != null) {
            return found;
        }
        String snippet = text.length() <= SNIPPET ? text : text.substring(0, SNIPPET) + "…";
        return Envelope.notJson("output is not a JSON envelope: " + snippet);
    }

    /**
     * The envelope in the output as a whole, else the last one among its lines; null when there is none.
     *
     * @param loose whether an object without "type" that looks like an envelope counts (the claude contract: a plain
     *              agent's result may have such fields)
     * @param read  adds the characters parsed along the way to {@code read[0]}
     */
    static Envelope find(String text, boolean loose, long[] read) {
        JsonNode whole = readWhole(text);
        read[0] += text.length();
        Envelope found = whole == null ? null : fromNode(whole, loose);
        return found != null ? found : lastEnvelopeAmongLines(text, loose, read);
    }

    private static JsonNode readWhole(String text) {
        try {
            return Json.MAPPER.readTree(text);
        } catch (Exception e) {
            return null;
        }
    }

    /**
     * Log noise before (or after) the JSON: try each line that starts with '{' or '[', from the last one back,
     * reading one JSON value from there; the first that holds a result envelope wins. A try reads up to the end of
     * its value, which may be the end of the output: the tries together read at most {@value #READ_BUDGET} times the
     * output, or lines of '[' before megabytes of "1,1,…" would cost minutes of the host's CPU per attempt.
     */
    private static Envelope lastEnvelopeAmongLines(String text, boolean loose, long[] read) {
        List<Integer> starts = new ArrayList<>();
        int lineStart = 0;
        while (lineStart < text.length()) {
            int i = lineStart;
            while (i < text.length() && (text.charAt(i) == ' ' || text.charAt(i) == '\t' || text.charAt(i) == '\r')) {
                i++;
            }
            if (i < text.length() && (text.charAt(i) == '{' || text.charAt(i) == '[')) {
                starts.add(i);
            }
            int nl = text.indexOf('\n', lineStart);
            if (nl < 0) {
                break;
            }
            lineStart = nl + 1;
        }
        char[] chars = text.toCharArray();
        long budget = read[0] + (long) READ_BUDGET * chars.length;
        int tried = 0;
        for (int k = starts.size() - 1; k >= 0 && tried < MAX_CANDIDATES && read[0] < budget; k--, tried++) {
            int from = starts.get(k);
            JsonNode node = readOneValue(chars, from, chars.length - from, read);
            Envelope env = node == null ? null : fromNode(node, loose);
            if (env != null) {
                return env;
            }
        }
        return null;
    }

    /** One JSON value from {@code offset}, or null; adds the characters the parser went through to {@code read[0]}. */
    private static JsonNode readOneValue(char[] text, int offset, int length, long[] read) {
        JsonParser parser = null;
        try {
            parser = Json.MAPPER.getFactory().createParser(text, offset, length);
            return parser.readValueAsTree();
        } catch (Exception e) {
            return null;
        } finally {
            if (parser != null) {
                read[0] += Math.max(1, parser.currentLocation().getCharOffset());
                try {
                    parser.close();
                } catch (java.io.IOException ignored) {
                    // a parser over a char array holds nothing to release
                }
            }
        }
    }

    /** An envelope from a parsed value, or null when the value is not one. */
    private static Envelope fromNode(JsonNode node, boolean loose) {
        if (node.isArray()) {
            // --verbose prints every event; the last "result" event is the envelope.
            for (int i = node.size() - 1; i >= 0; i--) {
                JsonNode event = node.get(i);
                if (event != null && event.isObject() && "result".equals(text(event.get("type")))) {
                    return fromObject(event);
                }
            }
            return null;
        }
        if (!node.isObject()) {
            return null;
        }
        String type = text(node.get("type"));
        if ("result".equals(type)) {
            return fromObject(node);
        }
        // A program honouring the contract loosely may leave out "type"; accept it if it looks like an envelope.
        if (loose && type == null && (node.has("is_error") || node.has("subtype") || node.has("structured_output"))) {
            return fromObject(node);
        }
        return null;
    }

    private static Envelope fromObject(JsonNode o) {
        JsonNode usage = o.path("usage");
        JsonNode result = o.get("result");
        String resultText = result == null || result.isNull() ? null
                : result.isValueNode() ? result.asText() : result.toString();
        JsonNode structured = o.get("structured_output");
        if (structured != null && (structured.isNull() || structured.isMissingNode())) {
            structured = null;
        }
        return new Envelope(
                Envelope.Presence.PRESENT,
                null,
                bool(o.get("is_error")),
                text(o.get("subtype")),
                integerOrNull(o.get("api_error_status")),
                resultText,
                structured,
                texts(o.get("errors")),
                decimal(o.get("total_cost_usd")),
                longValue(usage.get("input_tokens")),
                longValue(usage.get("output_tokens")),
                longValue(usage.get("cache_creation_input_tokens")),
                longValue(usage.get("cache_read_input_tokens")),
                (int) Math.min(Integer.MAX_VALUE, longValue(o.get("num_turns"))),
                longValue(o.get("duration_ms")),
                text(o.get("session_id")),
                text(o.get("stop_reason")),
                text(o.get("terminal_reason")),
                count(o.get("permission_denials")));
    }

    private static String text(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return null;
        }
        return n.isValueNode() ? n.asText() : n.toString();
    }

    private static boolean bool(JsonNode n) {
        if (n == null || n.isNull()) {
            return false;
        }
        if (n.isBoolean()) {
            return n.booleanValue();
        }
        if (n.isNumber()) {
            return n.asInt() != 0;
        }
        return n.isTextual() && n.asText().trim().equalsIgnoreCase("true");
    }

    private static BigDecimal decimalOrNull(JsonNode n) {
        if (n == null || n.isNull()) {
            return null;
        }
        if (n.isNumber()) {
            return n.decimalValue();
        }
        if (n.isTextual()) {
            try {
                return new BigDecimal(n.asText().trim());
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    private static BigDecimal decimal(JsonNode n) {
        BigDecimal d = decimalOrNull(n);
        return d == null ? BigDecimal.ZERO : d;
    }

    private static Integer integerOrNull(JsonNode n) {
        BigDecimal d = decimalOrNull(n);
        if (d == null) {
            return null;
        }
        try {
            return d.intValueExact();
        } catch (ArithmeticException e) {
            return null;
        }
    }

    private static long longValue(JsonNode n) {
        BigDecimal d = decimalOrNull(n);
        if (d == null || d.signum() < 0) {
            return 0;
        }
        try {
            return d.longValue();
        } catch (ArithmeticException e) {
            return 0;
        }
    }

    private static int count(JsonNode n) {
        if (n == null || n.isNull()) {
            return 0;
        }
        if (n.isArray() || n.isObject()) {
            return n.size();
        }
        return (int) Math.min(Integer.MAX_VALUE, longValue(n));
    }

    private static List<String> texts(JsonNode n) {
        List<String> out = new ArrayList<>();
        if (n == null || n.isNull()) {
            return out;
        }
        if (n.isArray()) {
            for (JsonNode e : n) {
                String s = text(e);
                if (s != null) {
                    out.add(s);
                }
            }
        } else {
            String s = text(n);
            if (s != null) {
                out.add(s);
            }
        }
        return out;
    }
}
