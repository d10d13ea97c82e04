package io.sandflow.config;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sandflow's settings as layered values ({@link SettingsLoader} reads them), each remembering where it came from (file
 * and line) so that an error, and {@code sandflow config}, can say which line to fix; and the typed reading of one
 * value, which names the setting and its origin when the value is wrong.
 */
public final class Settings {

    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h|d)");

    private final Path workDir;
    private final Map<String, String> values;
    private final Map<String, String> origins;

    Settings(Path workDir, Map<String, String> values, Map<String, String> origins) {
        this.workDir = workDir;
        this.values = values;
        this.origins = origins;
    }

    /**
     * Loads the layers in order (see {@link SettingsLoader}). User files are read as UTF-8 (plain Arabic works; \\u
     * escapes too).
     */
    public static Settings load(Path workDir, Path configFile, List<String> profiles, Map<String, String> overrides) {
        return SettingsLoader.load(workDir, configFile, profiles, overrides);
    }

    /** For tests: defaults plus the given values, nothing read from disk. */
    public static Settings of(Path workDir, Map<String, String> values) {
        Path dir = workDir.toAbsolutePath().normalize();
        Settings base = load(dir.resolve(".no-such-folder-for-settings"), null, List.of(), values);
        return new Settings(dir, base.values, base.origins);
    }

    public Path workDir() {
        return workDir;
    }

    /** Every key and value, for handing to Camel as override properties. */
    public Properties asProperties() {
        Properties props = new Properties();
        values.forEach(props::setProperty);
        return props;
    }

    public Map<String, String> values() {
        return Collections.unmodifiableMap(values);
    }

    public String origin(String key) {
        return origins.getOrDefault(key, "nowhere");
    }

    public String get(String key) {
        String value = values.get(key);
        if (value == null) {
            throw new ConfigException("setting " + key + " is missing");
        }
        return value;
    }

    public Optional<String> optional(String key) {
        String value = values.get(key);
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value);
    }

    public String required(String key) {
        return optional(key).orElseThrow(() -> new ConfigException(key + " must not be empty (set in " + origin(key) + ")"));
    }

    public int positiveInt(String key) {
        int n = intValue(key);
        if (n <= 0) {
            throw invalid(key, "must be a positive whole number");
        }
        return n;
    }

    public int nonNegativeInt(String key) {
        int n = intValue(key);
        if (n < 0) {
            throw invalid(key, "must be zero or a positive whole number");
        }
        return n;
    }

    private int intValue(String key) {
        try {
            return Integer.parseInt(get(key));
        } catch (NumberFormatException e) {
            throw invalid(key, "must be a whole number");
        }
    }

    public long positiveLong(String key) {
        try {
            long n = Long.parseLong(get(key));
            if (n <= 0) {
                throw invalid(key, "must be a positive whole number");
            }
            return n;
        } catch (NumberFormatException e) {
            throw invalid(key, "must be a whole number");
        }
    }

    public double decimal(String key, double min, double max) {
        try {
            double d = Double.parseDouble(get(key));
            if (d < min || d > max) {
                throw invalid(key, "must be between " + min + " and " + max);
            }
            return d;
        } catch (NumberFormatException e) {
            throw invalid(key, "must be a number");
        }
    }

    public Optional<BigDecimal> money(String key) {
        return optional(key).map(v -> {
            try {
                BigDecimal d = new BigDecimal(v);
                if (d.signum() < 0) {
                    throw invalid(key, "must not be negative");
                }
                return d;
            } catch (NumberFormatException e) {
                throw invalid(key, "must be an amount in USD such as 2.50");
            }
        });
    }

    public boolean bool(String key) {
        String v = get(key).toLowerCase(Locale.ROOT);
        if (v.equals("true") || v.equals("false")) {
            return Boolean.parseBoolean(v);
        }
        throw invalid(key, "must be true or false");
    }

    /** Durations are written with a unit: 500ms, 30s, 5m, 2h, 1d (or ISO-8601 such as PT5M). */
    public Duration duration(String key) {
        String v = get(key).trim();
        if (v.startsWith("P") || v.startsWith("p")) {
            Duration iso;
            try {
                iso = Duration.parse(v);
            } catch (RuntimeException e) {
                throw invalid(key, "must be a duration such as 30s, 5m or 2h");
            }
            if (iso.isNegative()) {
                throw invalid(key, "must not be negative");
            }
            return iso;
        }
        Matcher m = DURATION.matcher(v.toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw invalid(key, "must be a duration with a unit, such as 500ms, 30s, 5m or 2h");
        }
        double amount = Double.parseDouble(m.group(1));
        long millis = switch (m.group(2)) {
            case "ms" -> Math.round(amount);
            case "s" -> Math.round(amount * 1_000);
            case "m" -> Math.round(amount * 60_000);
            case "h" -> Math.round(amount * 3_600_000);
            default -> Math.round(amount * 86_400_000);
        };
        return Duration.ofMillis(millis);
    }

    /** A duration that must be longer than zero: a zero timeout, lease or wait would fail every job. */
    public Duration positiveDuration(String key) {
        Duration d = duration(key);
        if (d.isZero() || d.isNegative()) {
            throw invalid(key, "must be longer than zero");
        }
        return d;
    }

    /** A folder or file setting, resolved against the working folder. */
    public Path path(String key) {
        return workDir.resolve(required(key)).normalize();
    }

    /** A comma-separated list; blanks dropped. */
    public List<String> list(String key) {
        List<String> out = new ArrayList<>();
        for (String part : optional(key).orElse("").split(",")) {
            if (!part.isBlank()) {
                out.add(part.trim());
            }
        }
        return out;
    }

    /** Reads a resource setting: {@code classpath:x} from the jar, otherwise a file under the working folder. */
    public String text(String key) {
        String location = required(key);
        try {
            if (location.startsWith("classpath:")) {
                String name = location.substring("classpath:".length());
                try (InputStream in = Settings.class.getClassLoader().getResourceAsStream(name)) {
                    if (in == null) {
                        throw new ConfigException(key + "=" + location + " (from " + origin(key) + "): not found in the jar");
                    }
                    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
            }
            Path file = workDir.resolve(location).normalize();
            if (Files.isRegularFile(file)) {
                return Files.readString(file, StandardCharsets.UTF_8);
            }
            // A relative path the working folder lacks may be one the jar ships (prompts/, schemas/)
            if (!Path.of(location).isAbsolute()) {
                try (InputStream in = Settings.class.getClassLoader().getResourceAsStream(location)) {
                    if (in != null) {
                        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                    }
                }
            }
            throw new ConfigException(key + "=" + location + " (from " + origin(key) + "): no such file " + file);
        } catch (IOException e) {
            throw new ConfigException(key + "=" + location + ": cannot read it (" + e.getMessage() + ")", e);
        }
    }

    public ConfigException invalid(String key, String rule) {
        return new ConfigException(key + " " + rule + ", got '" + values.get(key) + "' (from " + origin(key) + ")");
    }
}
