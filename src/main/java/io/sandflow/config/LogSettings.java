package io.sandflow.config;

import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Where and how much Sandflow logs: {@code sandflow.log.level}, and with {@code sandflow.log.file} a copy of the log
 * in a file rotated at {@code sandflow.log.max-size}, keeping {@code sandflow.log.keep} old ones.
 *
 * @param level   ERROR, WARN, INFO, DEBUG or TRACE
 * @param file    the log file, or null for stderr only
 * @param maxSize a size log4j reads: 500KB, 10MB, 1GB
 * @param shown   how errors name the file setting: its value and where it was set
 */
public record LogSettings(String level, Path file, String maxSize, int keep, String shown) {

    private static final Pattern SIZE = Pattern.compile("(?i)\\d+\\s*(KB|MB|GB)");

    /** Reads and checks the logging settings; a {@link ConfigException} names the one that is wrong. */
    public static LogSettings of(Settings s) {
        String level = s.get("sandflow.log.level").trim().toUpperCase(Locale.ROOT);
        switch (level) {
            case "TRACE", "DEBUG", "INFO", "WARN", "ERROR" -> {
            }
            default -> throw s.invalid("sandflow.log.level", "must be one of ERROR, WARN, INFO, DEBUG, TRACE");
        }
        if (s.optional("sandflow.log.file").isEmpty()) {
            return new LogSettings(level, null, null, 0, null);
        }
        String maxSize = s.get("sandflow.log.max-size").trim();
        if (!SIZE.matcher(maxSize).matches()) {
            throw s.invalid("sandflow.log.max-size", "must be a size such as 500KB, 10MB or 1GB");
        }
        return new LogSettings(level, s.path("sandflow.log.file"), maxSize, s.positiveInt("sandflow.log.keep"),
                "'" + s.get("sandflow.log.file") + "' (from " + s.origin("sandflow.log.file") + ")");
    }
}
