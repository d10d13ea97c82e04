package io.sandflow.agent;

import com.fasterxml.jackson.databind.JsonNode;

import java.math.BigDecimal;
import java.util.List;

/**
 * What the agent CLI printed, read into fields: the result envelope of one run, or a note that there was none.
 *
 * @param presence         whether an envelope was found, and if not, why not
 * @param absentReason     when there is no envelope, why (e.g. "empty output"); null otherwise
 * @param isError          the CLI's {@code is_error}
 * @param subtype          {@code success}, {@code error_max_turns}, … ; null when absent
 * @param apiErrorStatus   the HTTP status of the API error, or null (also null for repeated 529s)
 * @param result           the final text, or null when the envelope has none
 * @param structuredOutput the object the model gave the schema tool, or null
 * @param errors           the {@code errors} array on {@code error_*} subtypes, never null
 * @param totalCostUsd     the run's cost, zero when not reported
 * @param permissionDenials how many tool calls the CLI denied
 */
public record Envelope(
        Presence presence,
        String absentReason,
        boolean isError,
        String subtype,
        Integer apiErrorStatus,
        String result,
        JsonNode structuredOutput,
        List<String> errors,
        BigDecimal totalCostUsd,
        long inputTokens,
        long outputTokens,
        long cacheCreationInputTokens,
        long cacheReadInputTokens,
        int numTurns,
        long durationMs,
        String sessionId,
        String stopReason,
        String terminalReason,
        int permissionDenials) {

    /** Whether stdout held an envelope. */
    public enum Presence {
        /** An envelope was read. */
        PRESENT,
        /** Nothing, or only whitespace, was printed. */
        EMPTY,
        /** Something was printed, but no result envelope could be found in it. */
        NOT_JSON,
        /**
         * Under the plain contract, no envelope: the exit code says whether the run worked, stdout (in
         * {@code result}, null when empty) may hold the result, and the last of stderr is in {@code errors}.
         */
        TEXT
    }

    public Envelope {
        errors = errors == null ? List.of() : List.copyOf(errors);
        totalCostUsd = totalCostUsd == null ? BigDecimal.ZERO : totalCostUsd;
        if (presence == null) {
            presence = Presence.PRESENT;
        }
    }

    /** No envelope because the agent printed nothing usable. */
    public static Envelope absent(String reason) {
        return none(Presence.EMPTY, reason);
    }

    /** No envelope because what the agent printed is not one. */
    public static Envelope notJson(String reason) {
        return none(Presence.NOT_JSON, reason);
    }

    /** What a plain agent that printed no envelope said: its stdout as the result text, its stderr as errors. */
    public static Envelope text(String stdout, String stderr) {
        String result = stdout == null || stdout.isBlank() ? null : stdout.strip();
        List<String> errors = stderr == null || stderr.isBlank() ? List.of() : List.of(stderr.strip());
        return new Envelope(Presence.TEXT, null, false, null, null, result, null, errors, BigDecimal.ZERO,
                0, 0, 0, 0, 0, 0, null, null, null, 0);
    }

    private static Envelope none(Presence presence, String reason) {
        return new Envelope(presence, reason, false, null, null, null, null, List.of(), BigDecimal.ZERO,
                0, 0, 0, 0, 0, 0, null, null, null, 0);
    }

    public boolean isPresent() {
        return presence == Presence.PRESENT;
    }

    /** Whether this is a plain agent's output without an envelope ({@link Presence#TEXT}). */
    public boolean isPlainText() {
        return presence == Presence.TEXT;
    }

    public boolean hasStructuredOutput() {
        return structuredOutput != null && !structuredOutput.isNull() && !structuredOutput.isMissingNode();
    }

    /** The result text and the errors joined: what the agent said about how it ended. */
    public String message() {
        StringBuilder text = new StringBuilder();
        if (result != null && !result.isBlank()) {
            text.append(result.strip());
        }
        for (String error : errors) {
            if (error != null && !error.isBlank()) {
                if (!text.isEmpty()) {
                    text.append("; ");
                }
                text.append(error.strip());
            }
        }
        return text.toString();
    }
}
