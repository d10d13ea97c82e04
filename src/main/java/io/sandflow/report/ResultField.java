package io.sandflow.report;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One value taken out of every result for an export, a report or the console: a column name and the JSON pointer
 * (RFC 6901) that finds the value, written {@code NAME=/json/pointer}.
 */
public record ResultField(String name, JsonPointer pointer) {

    /** The columns every row has; a result field may not take one of these names. */
    public static final List<String> JOB_COLUMNS = List.of("file", "state", "class", "reason", "attempts", "cost_usd",
            "tokens_in", "tokens_out", "duration_s", "node", "finished_at", "result_file");

    /**
     * Reads {@code NAME=/json/pointer}.
     *
     * @throws IllegalArgumentException with a sentence saying what is wrong with {@code spec}
     */
    public static ResultField parse(String spec) {
        int eq = spec == null ? -1 : spec.indexOf('=');
        if (eq <= 0) {
            throw new IllegalArgumentException("'" + spec + "' is not NAME=/json/pointer");
        }
        String name = spec.substring(0, eq).strip();
        String pointer = spec.substring(eq + 1).strip();
        if (name.isEmpty()) {
            throw new IllegalArgumentException("'" + spec + "' has no name before '='");
        }
        if (JOB_COLUMNS.contains(name)) {
            throw new IllegalArgumentException("'" + spec + "': " + name + " is already a column of every row; name "
                    + "the field otherwise");
        }
        return new ResultField(name, pointer(pointer, spec));
    }

    /** A JSON pointer as a user wrote it, or an exception saying why it is not one. */
    public static JsonPointer pointer(String text, String where) {
        if (text == null || !text.startsWith("/")) {
            throw new IllegalArgumentException("'" + where + "': a JSON pointer starts with '/', as in /score or "
                    + "/summary/title");
        }
        try {
            return JsonPointer.compile(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + where + "' is not a JSON pointer: " + e.getMessage());
        }
    }

    /** Several specs, each NAME=/pointer; names must differ. */
    public static List<ResultField> parseAll(List<String> specs) {
        List<ResultField> fields = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (String spec : specs) {
            if (spec == null || spec.isBlank()) {
                continue;
            }
            ResultField f = parse(spec);
            if (!names.add(f.name())) {
                throw new IllegalArgumentException("the field name " + f.name() + " is given twice");
            }
            fields.add(f);
        }
        return List.copyOf(fields);
    }

    /** The value in {@code result}, or a missing node when the pointer finds nothing (or there is no result). */
    public JsonNode valueIn(JsonNode result) {
        return result == null ? MissingNode.getInstance() : result.at(pointer);
    }

    /** The value as a spreadsheet cell: text as it is, numbers and booleans as written, objects as compact JSON. */
    public String textIn(JsonNode result) {
        return text(valueIn(result));
    }

    static String text(JsonNode value) {
        if (value == null || value.isMissingNode() || value.isNull()) {
            return "";
        }
        if (value.isValueNode()) {
            return value.asText();
        }
        return value.toString();
    }

    @Override
    public String toString() {
        return name + "=" + pointer;
    }
}
