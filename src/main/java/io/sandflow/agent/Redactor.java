package io.sandflow.agent;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Blanks out secrets in text bound for reports, logs, the store and prompts: the values of secret-looking environment
 * variables, also in pieces (any 8 characters in a row of a value, so a key cut by a tail or a line break is still
 * masked), and anything shaped like a known API key or a bearer token. Immutable; {@link #redact} is a pure function.
 */
public final class Redactor {

    public static final String MASK = "[REDACTED]";
    /** Shorter values are not masked: replacing every "1" or "dev" in a report would garble it for no gain. */
    static final int MIN_SECRET_LENGTH = 4;
    /** A piece of a secret this long is masked wherever it appears; a shorter value is matched whole. */
    static final int PIECE = 8;

    private static final List<String> SECRET_SUFFIXES = List.of("_KEY", "_TOKEN", "_SECRET", "_PASSWORD");
    private static final Pattern ANTHROPIC_KEY = Pattern.compile("sk-ant-[A-Za-z0-9_\\-]+");
    /**
     * Key shapes by their provider's prefix. The Anthropic part also matches a key whose start was cut off
     * ({@code api03-…}, {@code nt-oat01-…}), as when a tail of output begins inside it.
     */
    private static final Pattern KNOWN_KEYS = Pattern.compile(
            "(?<![A-Za-z0-9])(?:(?:sk-)?(?:ant-)?|nt-|t-|-)?(?:api|admin|oat|sid)\\d{2}-[A-Za-z0-9_\\-]{8,}"
                    + "|(?<![A-Za-z0-9])(?:sk-(?:proj-)?[A-Za-z0-9_\\-]{20,}"
                    + "|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
                    + "|(?:AKIA|ASIA)[0-9A-Z]{16}|xox[abposr]-[A-Za-z0-9\\-]{10,}|AIza[0-9A-Za-z_\\-]{30,}"
                    + "|hf_[A-Za-z0-9]{30,}|glpat-[A-Za-z0-9_\\-]{20,})");
    private static final Pattern BEARER = Pattern.compile("(?i)\\b(bearer)\\s+[A-Za-z0-9._~+/=\\-]+");
    private static final Pattern API_KEY_HEADER =
            Pattern.compile("(?i)(x-api-key[\"']?\\s*[:=]\\s*[\"']?)[^\\s\"',;]+");

    private static final Redactor PATTERNS_ONLY = new Redactor(Map.of());

    /** Each secret value with the name of a variable holding it. */
    private final Map<String, String> secrets;
    /** Every 8-character piece of every long secret, with the name of its variable. */
    private final Map<String, String> pieces;

    private Redactor(Map<String, String> secrets) {
        this.secrets = secrets;
        Map<String, String> p = new HashMap<>();
        secrets.forEach((value, name) -> {
            for (int i = 0; i + PIECE <= value.length(); i++) {
                p.putIfAbsent(value.substring(i, i + PIECE), name);
            }
        });
        this.pieces = Map.copyOf(p);
    }

    /** A redactor for the secrets in this environment (typically {@code System.getenv()}). */
    public static Redactor of(Map<String, String> env) {
        return of(env, Map.of());
    }

    /**
     * A redactor for the secrets in {@code env} and in {@code more} (such as the variables configured for the agent
     * with sandflow.agent.env.NAME).
     */
    public static Redactor of(Map<String, String> env, Map<String, String> more) {
        Map<String, String> values = new LinkedHashMap<>();
        for (Map<String, String> source : List.of(env, more)) {
            source.forEach((name, value) -> {
                if (name != null && value != null && isSecretName(name) && value.length() >= MIN_SECRET_LENGTH) {
                    values.putIfAbsent(value, name);
                }
            });
        }
        return new Redactor(Map.copyOf(values));
    }

    /** A redactor that knows no values and masks only key- and token-shaped text. */
    public static Redactor patternsOnly() {
        return PATTERNS_ONLY;
    }

    static boolean isSecretName(String name) {
        String upper = name.toUpperCase(Locale.ROOT);
        if (upper.equals("ANTHROPIC_API_KEY") || upper.contains("PASSWORD") || upper.contains("CREDENTIAL")) {
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
        boolean[] secret = new boolean[text.length()];
        boolean any = markSecrets(text, secret, true) != null;
        String out = text;
        if (any) {
            StringBuilder masked = new StringBuilder(text.length());
            for (int i = 0; i < text.length(); i++) {
                if (!secret[i]) {
                    masked.append(text.charAt(i));
                } else if (i == 0 || !secret[i - 1]) {
                    masked.append(MASK);
                }
            }
            out = masked.toString();
        }
        out = ANTHROPIC_KEY.matcher(out).replaceAll(MASK);
        out = KNOWN_KEYS.matcher(out).replaceAll(MASK);
        out = BEARER.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + " " + MASK));
        out = API_KEY_HEADER.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + MASK));
        return out;
    }

    /**
     * Names the secret a text carries: a known value (whole, or any 8 characters in a row of it), or an Anthropic
     * key of any value.
     *
     * @return the variable's name, or "an Anthropic API key", or empty when the text carries none
     */
    public Optional<String> secretIn(String text) {
        if (text == null || text.isEmpty()) {
            return Optional.empty();
        }
        String name = markSecrets(text, null, false);
        if (name != null) {
            return Optional.of(name);
        }
        return ANTHROPIC_KEY.matcher(text).find() ? Optional.of("an Anthropic API key") : Optional.empty();
    }

    /** {@link #secretIn(String)} over every name and value of a JSON document. */
    public Optional<String> secretIn(JsonNode node) {
        if (node == null) {
            return Optional.empty();
        }
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                Optional<String> found = secretIn(field.getKey()).or(() -> secretIn(field.getValue()));
                if (found.isPresent()) {
                    return found;
                }
            }
            return Optional.empty();
        }
        if (node.isArray()) {
            for (JsonNode item : node) {
                Optional<String> found = secretIn(item);
                if (found.isPresent()) {
                    return found;
                }
            }
            return Optional.empty();
        }
        return node.isValueNode() ? secretIn(node.asText()) : Optional.empty();
    }

    /**
     * Finds the known secrets in a text: whole short values, and 8-character pieces of long ones. With
     * {@code marks}, marks every character they cover; without, stops at the first.
     *
     * @return the name of a secret found, or null when none
     */
    private String markSecrets(String text, boolean[] marks, boolean all) {
        String found = null;
        for (Map.Entry<String, String> s : secrets.entrySet()) {
            String value = s.getKey();
            if (value.length() >= PIECE) {
                continue;
            }
            for (int at = text.indexOf(value); at >= 0; at = text.indexOf(value, at + 1)) {
                found = s.getValue();
                if (!all) {
                    return found;
                }
                java.util.Arrays.fill(marks, at, at + value.length(), true);
            }
        }
        if (pieces.isEmpty()) {
            return found;
        }
        for (int i = 0; i + PIECE <= text.length(); i++) {
            String name = pieces.get(text.substring(i, i + PIECE));
            if (name != null) {
                found = name;
                if (!all) {
                    return found;
                }
                java.util.Arrays.fill(marks, i, i + PIECE, true);
            }
        }
        return found;
    }
}
