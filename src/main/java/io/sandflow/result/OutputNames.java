package io.sandflow.result;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names a result file after its input: {@code {name}} is the input's file name, {@code {base}} the name without
 * its last extension. The result is always a plain file name, never a path.
 */
public final class OutputNames {

    public static final String KEY = "sandflow.result.name";
    public static final String DEFAULT_PATTERN = "{base}.result.json";

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
