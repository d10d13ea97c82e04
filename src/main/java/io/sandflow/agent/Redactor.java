package io.sandflow.agent;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Blanks out secrets in text bound for reports and logs: the values of secret-looking environment variables, and
 * anything shaped like an Anthropic key or a bearer token. Immutable; {@link #redact} is a pure function.
 */
public final class Redactor {

    public static final String MASK = "[REDACTED]";
    /** Shorter values are not masked: replacing every "1" or "dev" in a report would garble it for no gain. */
    static final int MIN_SECRET_LENGTH = 4;

    private static final List<String> SECRET_SUFFIXES = List.of("_KEY", "_TOKEN", "_SECRET", "_PASSWORD");
    private static final Pattern ANTHROPIC_KEY = Pattern.compile("sk-ant-[A-Za-z0-9_\\-]+");
    private static final Pattern BEARER = Pattern.compile("(?i)\\b(bearer)\\s+[A-Za-z0-9._~+/=\\-]+");
    private static final Pattern API_KEY_HEADER =
            Pattern.compile("(?i)(x-api-key[\"']?\\s*[:=]\\s*[\"']?)[^\\s\"',;]+");

    private static final Redactor PATTERNS_ONLY = new Redactor(List.of());

    private final List<String> secrets;

    private Redactor(List<String> secrets) {
        this.secrets = secrets;
    }

    /** A redactor for the secrets in this environment (typically {@code System.getenv()}). */
    public static Redactor of(Map<String, String> env) {
        List<String> values = new ArrayList<>();
        env.forEach((name, value) -> {
            if (name != null && value != null && isSecretName(name) && value.length() >= MIN_SECRET_LENGTH
                    && !values.contains(value)) {
                values.add(value);
            }
        });
        // Longest first, so a secret that contains another is masked whole.
        values.sort(Comparator.comparingInt(String::length).reversed());
        return new Redactor(List.copyOf(values));
    }

    /** A redactor that knows no values and masks only key- and token-shaped text. */
    public static Redactor patternsOnly() {
        return PATTERNS_ONLY;
    }

    static boolean isSecretName(String name) {
        String upper = name.toUpperCase(Locale.ROOT);
        if (upper.equals("ANTHROPIC_API_KEY")) {
            return true;
        }
        for (String suffix : SECRET_SUFFIXES) {
            if (upper.endsWith(suffix)) {
                return true;
            }
        }
        return false;
    }

    public String redact(String text) {
        if (text == null || text.isEmpty()) {
            return text;
        }
        String out = text;
        for (String secret : secrets) {
            out = out.replace(secret, MASK);
        }
        out = ANTHROPIC_KEY.matcher(out).replaceAll(MASK);
        out = BEARER.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + " " + MASK));
        out = API_KEY_HEADER.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + MASK));
        return out;
    }
}
