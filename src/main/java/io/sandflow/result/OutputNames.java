package io.sandflow.result;

import io.sandflow.job.JobKey;

import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names a result file after its input: {@code {name}} is the input's file name, {@code {base}} the name without
 * its last extension. The result is always a plain file name, never a path, and never longer than a file system
 * allows: a longer one is shortened the same way every time ({@link #fit}).
 */
public final class OutputNames {

    public static final String KEY = "sandflow.result.name";
    public static final String DEFAULT_PATTERN = "{base}.result.json";
    /** NAME_MAX of the file systems Sandflow runs on (ext4, xfs, btrfs, tmpfs, NFS, APFS): bytes, not characters. */
    public static final int MAX_NAME_BYTES = 255;
    /** What ends a failed input's report name. */
    public static final String REPORT_SUFFIX = ".error.json";

    /** A kept ending longer than this is not worth keeping whole in a shortened name. */
    private static final int MAX_KEPT_TAIL = 64;

    private static final Pattern PLACEHOLDER = Pattern.compile("\\{([^{}]*)}");

    private OutputNames() {
    }

    /**
     * @param pattern   the pattern, or null/blank for {@value #DEFAULT_PATTERN}
     * @param inputName the input's file name (not a path)
     * @throws IllegalArgumentException naming {@code sandflow.result.name} when the name would not be a plain
     *                                  file name
     */
    public static String resolve(String pattern, String inputName) {
        String p = pattern == null || pattern.isBlank() ? DEFAULT_PATTERN : pattern;
        return fit(expand(p, inputName), literalTail(p));
    }

    /** As {@link #resolve}, without shortening: the name the pattern gives, however long. */
    public static String expand(String pattern, String inputName) {
        String p = pattern == null || pattern.isBlank() ? DEFAULT_PATTERN : pattern;
        checkPattern(p);
        if (inputName == null || inputName.isEmpty()) {
            throw new IllegalArgumentException("an input needs a file name to name its result by " + KEY);
        }
        String base = base(inputName);
        StringBuilder out = new StringBuilder();
        Matcher m = PLACEHOLDER.matcher(p);
        while (m.find()) {
            // Literal replacement: an input name is data, never a replacement template ($ and \ stay as they are).
            m.appendReplacement(out, Matcher.quoteReplacement(m.group(1).equals("name") ? inputName : base));
        }
        m.appendTail(out);
        String name = out.toString();
        if (!isPlainFileName(name)) {
            throw new IllegalArgumentException(KEY + " '" + p + "' gives '" + name + "' for input '" + inputName
                    + "', which is not a plain file name (no '/', '\\', '..' or NUL)");
        }
        return name;
    }

    /** The name of the report of a failed input: NAME.error.json, shortened by {@link #fit} when too long. */
    public static String reportName(String inputName) {
        return fit(inputName + REPORT_SUFFIX, REPORT_SUFFIX);
    }

    /**
     * The name itself when it fits in {@value #MAX_NAME_BYTES} bytes of UTF-8; otherwise its start (whole
     * characters), {@code ~}, eight hex digits of the SHA-256 of the whole name, then {@code tail} when the name ends
     * with it (else its last extension). The same name always gives the same short name, and two long names that
     * differ only at their end give different ones.
     */
    public static String fit(String name, String tail) {
        if (utf8Length(name) <= MAX_NAME_BYTES) {
            return name;
        }
        String kept = tail != null && !tail.isEmpty() && name.endsWith(tail) && utf8Length(tail) <= MAX_KEPT_TAIL
                ? tail : extension(name);
        String marker = "~" + JobKey.sha256(name.getBytes(StandardCharsets.UTF_8)).substring(0, 8);
        String head = name.substring(0, name.length() - kept.length());
        return truncate(head, MAX_NAME_BYTES - utf8Length(marker) - utf8Length(kept)) + marker + kept;
    }

    /** The start of {@code text} that fits in {@code maxBytes} bytes of UTF-8, never splitting a character. */
    public static String truncate(String text, int maxBytes) {
        int bytes = 0;
        int end = 0;
        while (end < text.length()) {
            int cp = text.codePointAt(end);
            int size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (bytes + size > maxBytes) {
                break;
            }
            bytes += size;
            end += Character.charCount(cp);
        }
        return text.substring(0, end);
    }

    public static int utf8Length(String text) {
        return text.getBytes(StandardCharsets.UTF_8).length;
    }

    /** The last extension with its dot, when short; a leading dot does not start one. */
    private static String extension(String name) {
        int dot = name.lastIndexOf('.');
        if (dot <= 0 || utf8Length(name.substring(dot)) > MAX_KEPT_TAIL) {
            return "";
        }
        return name.substring(dot);
    }

    /** The pattern's text after its last placeholder: ".result.json" for the default. */
    private static String literalTail(String pattern) {
        int close = pattern.lastIndexOf('}');
        return close < 0 ? "" : pattern.substring(close + 1);
    }

    /** Checks a pattern on its own, for startup: known placeholders only, and no path parts. */
    public static void checkPattern(String pattern) {
        Matcher m = PLACEHOLDER.matcher(pattern);
        while (m.find()) {
            String placeholder = m.group(1);
            if (!placeholder.equals("name") && !placeholder.equals("base")) {
                throw new IllegalArgumentException(KEY + " '" + pattern + "' has an unknown placeholder {"
                        + placeholder + "}; use {name} or {base}");
            }
        }
        String literal = PLACEHOLDER.matcher(pattern).replaceAll("x");
        if (!isPlainFileName(literal) || literal.contains("..")) {
            throw new IllegalArgumentException(KEY + " '" + pattern
                    + "' must name a file in the output folder, without '/', '\\' or '..'");
        }
        if (!pattern.contains("{name}") && !pattern.contains("{base}")) {
            throw new IllegalArgumentException(KEY + " '" + pattern
                    + "' must contain {name} or {base}, or every result would get the same name");
        }
    }

    /** The name without its last extension; a leading dot does not start an extension. */
    static String base(String name) {
        int dot = name.lastIndexOf('.');
        return dot <= 0 ? name : name.substring(0, dot);
    }

    private static boolean isPlainFileName(String name) {
        return !name.isEmpty()
                && !name.equals(".")
                && !name.equals("..")
                && name.indexOf('/') < 0
                && name.indexOf('\\') < 0
                && name.indexOf('\0') < 0;
    }
}
