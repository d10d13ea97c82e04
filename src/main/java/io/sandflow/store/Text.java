package io.sandflow.store;

import java.nio.charset.StandardCharsets;

/** Fits text into columns: PostgreSQL rejects NUL characters, and the columns have limits. */
final class Text {

    /** The limit of last_error, in bytes of UTF-8. */
    static final int MAX_ERROR_BYTES = 8 * 1024;
    /** The limit of failure_reason, in characters. */
    static final int MAX_REASON_CHARS = 240;

    private Text() {
    }

    /** The text without NUL characters, cut at a character boundary to at most maxBytes of UTF-8. */
    static String fitBytes(String s, int maxBytes) {
        if (s == null) {
            return null;
        }
        String clean = s.indexOf('\0') >= 0 ? s.replace("\0", "") : s;
        if (clean.length() * 3 <= maxBytes || clean.getBytes(StandardCharsets.UTF_8).length <= maxBytes) {
            return clean;
        }
        int bytes = 0;
        int i = 0;
        while (i < clean.length()) {
            int cp = clean.codePointAt(i);
            int size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (bytes + size > maxBytes) {
                break;
            }
            bytes += size;
            i += Character.charCount(cp);
        }
        return clean.substring(0, i);
    }

    /** The text without NUL characters, cut to at most maxChars without splitting a surrogate pair. */
    static String fitChars(String s, int maxChars) {
        if (s == null) {
            return null;
        }
        String clean = s.indexOf('\0') >= 0 ? s.replace("\0", "") : s;
        if (clean.length() <= maxChars) {
            return clean;
        }
        int end = maxChars;
        if (Character.isHighSurrogate(clean.charAt(end - 1))) {
            end--;
        }
        return clean.substring(0, end);
    }

    /** The short form of an error by which failures are grouped: its first non-blank line, cut to 240 characters. */
    static String reason(String error) {
        if (error == null) {
            return null;
        }
        for (String line : error.split("\\R")) {
            String trimmed = line.strip();
            if (!trimmed.isEmpty()) {
                return fitChars(trimmed, MAX_REASON_CHARS);
            }
        }
        return null;
    }

    /** The first sentence of the first line of a message, without H2's trailing error code. */
    static String firstSentence(String message) {
        if (message == null || message.isBlank()) {
            return "no reason given";
        }
        String line = message.strip().split("\\R", 2)[0];
        line = line.replaceFirst("\\s*\\[\\d{5}-\\d+]\\s*$", "");
        int stop = line.indexOf(". ");
        if (stop > 0) {
            line = line.substring(0, stop);
        }
        return line.endsWith(".") ? line.substring(0, line.length() - 1) : line;
    }
}
