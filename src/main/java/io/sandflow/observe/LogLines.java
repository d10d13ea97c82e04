package io.sandflow.observe;

/** How a reason fits into one log line. */
public final class LogLines {

    /** Enough for the cause and a good part of the agent's own words; the report in failed/ keeps the rest. */
    public static final int MAX_REASON = 300;

    private LogLines() {
    }

    /** One line, at most {@value #MAX_REASON} characters, without a trailing full stop (the line goes on). */
    public static String clip(String text) {
        if (text == null) {
            return "";
        }
        String flat = text.replaceAll("\\s+", " ").strip();
        if (flat.endsWith(".")) {
            flat = flat.substring(0, flat.length() - 1);
        }
        return flat.length() <= MAX_REASON ? flat : flat.substring(0, MAX_REASON) + "…";
    }
}
