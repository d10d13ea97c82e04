package io.sandflow.cli;

import io.sandflow.agent.Redactor;
import io.sandflow.config.SandflowConfig;
import io.sandflow.config.Settings;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * {@code sandflow config}: every effective setting, one per line, with where it came from (the built-in defaults, a
 * file and line, a built-in profile, -D). Secrets are masked: values of secret-named keys, key- and token-shaped text,
 * passwords in URLs, and the values of this environment's secret variables.
 */
final class ConfigCommand {

    static final String MASK = "****";
    private static final Pattern SECRET_KEY = Pattern.compile(
            "(?i).*(password|passwd|secret|token|api[_.-]?key|credential|private[_.-]?key).*");
    /** Keys whose names sound secret but whose values only name environment variables. */
    private static final java.util.Set<String> NAMES_ONLY = java.util.Set.of("sandflow.agent.inherit-secrets");
    private static final Pattern URL_PASSWORD = Pattern.compile("(?i)((?:password|pwd)=)[^;&]*");
    private static final Pattern URL_USER_INFO = Pattern.compile("(://[^/:@\\s]+:)[^@/\\s]+@");

    private ConfigCommand() {
    }

    static int print(Settings settings, Map<String, String> env, PrintWriter out) {
        Redactor redactor = Redactor.of(env);
        Map<String, String> sorted = new TreeMap<>(settings.values());
        int width = sorted.keySet().stream().mapToInt(String::length).max().orElse(0);
        sorted.forEach((key, value) -> out.println(String.format(Locale.ROOT, "%-" + width + "s = %s   (%s)", key,
                mask(key, value, redactor), settings.origin(key))));
        out.flush();
        // Then checked as a run checks them: a value a run would refuse is named (exit 2), after the listing
        SandflowConfig.of(settings);
        return 0;
    }

    static String mask(String key, String value, Redactor redactor) {
        if (value.isEmpty()) {
            return value;
        }
        if (SECRET_KEY.matcher(key).matches() && !NAMES_ONLY.contains(key)) {
            return MASK;
        }
        String masked = URL_PASSWORD.matcher(value).replaceAll("$1" + MASK);
        masked = URL_USER_INFO.matcher(masked).replaceAll("$1" + MASK + "@");
        return redactor.redact(masked).replace(Redactor.MASK, MASK);
    }
}
