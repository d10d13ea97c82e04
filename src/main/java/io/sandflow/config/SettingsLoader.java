package io.sandflow.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;

/**
 * Reads Sandflow's settings, layered, each layer overriding the ones before it: built-in defaults; the built-in
 * profiles named by {@code --profile}; the working folder's application.properties; {@code --config FILE}; the user's
 * own application-NAME.properties for each {@code --profile NAME}; single {@code -Dkey=value} overrides. The user's own
 * files thus win over what Sandflow ships, and a user's profile over the user's base file. Every value remembers where
 * it came from (file and line), and an unknown {@code sandflow.*} key stops with a suggestion.
 */
final class SettingsLoader {

    static final String DEFAULTS = "sandflow-defaults.properties";
    static final String DEFAULTS_ORIGIN = "the built-in defaults";
    static final String COMMAND_LINE_ORIGIN = "-D on the command line";

    private SettingsLoader() {
    }

    /**
     * Loads the layers in order. User files are read as UTF-8 (plain Arabic works; \\u escapes too).
     */
    static Settings load(Path workDir, Path configFile, List<String> profiles, Map<String, String> overrides) {
        Path dir = workDir.toAbsolutePath().normalize();
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, String> origins = new LinkedHashMap<>();
        Properties defaults = new Properties();
        try (InputStream in = SettingsLoader.class.getClassLoader().getResourceAsStream(DEFAULTS)) {
            if (in == null) {
                throw new IllegalStateException(DEFAULTS + " is missing from the jar");
            }
            defaults.load(in);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read built-in defaults", e);
        }
        overlay(values, origins, defaults, k -> DEFAULTS_ORIGIN);
        Path configDir = dir;
        Path config = null;
        if (configFile != null) {
            config = dir.resolve(configFile).normalize();
            if (!Files.isRegularFile(config)) {
                throw new ConfigException("--config " + configFile + ": no such file");
            }
            configDir = config.getParent();
        }
        // A profile file of the user's own, else the one built in; a copy identical to the built-in one (a checkout
        // of the project) is the built-in one
        List<Path> ownProfiles = new ArrayList<>();
        for (String profile : profiles) {
            String name = "application-" + profile + ".properties";
            Path file = Files.isRegularFile(configDir.resolve(name)) ? configDir.resolve(name) : dir.resolve(name);
            String bundled = readBundledProfile(name);
            if (Files.isRegularFile(file) && !sameText(file, bundled)) {
                ownProfiles.add(file);
            } else if (bundled != null) {
                overlay(values, origins, parse(bundled, "built-in profile " + profile),
                        k -> "the built-in profile " + profile);
            } else {
                throw new ConfigException("--profile " + profile + ": no " + name + " in " + dir
                        + (configDir.equals(dir) ? "" : " or " + configDir) + " and none built in");
            }
        }
        Path appProps = dir.resolve("application.properties");
        if (Files.isRegularFile(appProps)) {
            overlayFile(values, origins, appProps, dir, "application.properties");
        }
        if (config != null) {
            overlayFile(values, origins, config, dir, "--config " + configFile);
        }
        for (Path file : ownProfiles) {
            overlayFile(values, origins, file, dir, "--profile");
        }
        overrides.forEach((k, v) -> {
            values.put(k, v);
            origins.put(k, COMMAND_LINE_ORIGIN);
        });
        rejectUnknownKeys(values, origins, defaults);
        return new Settings(dir, values, origins);
    }

    private static String readBundledProfile(String name) {
        try (InputStream in = SettingsLoader.class.getClassLoader().getResourceAsStream("profiles/" + name)) {
            return in == null ? null : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException("cannot read built-in profile " + name + ": " + e.getMessage(), e);
        }
    }

    private static boolean sameText(Path file, String bundled) {
        try {
            return bundled != null && Files.readString(file, StandardCharsets.UTF_8).equals(bundled);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static Properties parse(String text, String label) {
        Properties props = new Properties();
        try {
            props.load(new java.io.StringReader(text));
        } catch (IOException | IllegalArgumentException e) {
            throw new ConfigException(label + ": cannot read it (" + e.getMessage() + ")", e);
        }
        return props;
    }

    /** A user's file, each value's origin its name (relative to the working folder when inside it) and line. */
    private static void overlayFile(Map<String, String> values, Map<String, String> origins, Path file, Path dir,
                                    String label) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException(label + ": cannot read " + file + " (" + e.getMessage() + ")", e);
        }
        String shown = file.startsWith(dir) ? dir.relativize(file).toString() : file.toString();
        Properties props = parse(text, label + ": " + shown);
        Map<String, Integer> lines = keyLines(text);
        overlay(values, origins, props, k -> lines.containsKey(k) ? shown + ":" + lines.get(k) : shown);
    }

    /**
     * The line each key is (last) set on. Each logical line (continuations joined) is read by Properties itself, so
     * that keys with escapes are named exactly as the whole file names them.
     */
    static Map<String, Integer> keyLines(String text) {
        Map<String, Integer> lines = new LinkedHashMap<>();
        String[] physical = text.split("\\r\\n|\\r|\\n", -1);
        StringBuilder logical = new StringBuilder();
        int startLine = 0;
        for (int i = 0; i < physical.length; i++) {
            String line = physical[i];
            if (logical.isEmpty()) {
                String lead = line.stripLeading();
                if (lead.isEmpty() || lead.startsWith("#") || lead.startsWith("!")) {
                    continue;
                }
                startLine = i + 1;
            }
            logical.append(line).append('\n');
            int backslashes = 0;
            for (int j = line.length() - 1; j >= 0 && line.charAt(j) == '\\'; j--) {
                backslashes++;
            }
            if (backslashes % 2 == 1 && i + 1 < physical.length) {
                continue;
            }
            Properties one = new Properties();
            try {
                one.load(new java.io.StringReader(logical.toString()));
            } catch (IOException | IllegalArgumentException e) {
                // The whole file's parse reports it
            }
            for (String key : one.stringPropertyNames()) {
                lines.put(key, startLine);
            }
            logical.setLength(0);
        }
        return lines;
    }

    private static void overlay(Map<String, String> values, Map<String, String> origins, Properties props,
                                java.util.function.Function<String, String> origin) {
        for (String key : new TreeSet<>(props.stringPropertyNames())) {
            values.put(key, props.getProperty(key).trim());
            origins.put(key, origin.apply(key));
        }
    }

    private static void rejectUnknownKeys(Map<String, String> values, Map<String, String> origins,
                                          Properties defaults) {
        for (String key : values.keySet()) {
            if (key.startsWith("sandflow.") && !defaults.containsKey(key) && !key.startsWith("sandflow.agent.env.")) {
                throw new ConfigException("unknown setting " + key + " in " + origins.get(key)
                        + suggestion(key, defaults));
            }
        }
    }

    private static String suggestion(String key, Properties defaults) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String known : defaults.stringPropertyNames()) {
            int d = distance(key, known);
            if (d < bestDistance) {
                bestDistance = d;
                best = known;
            }
        }
        return best != null && bestDistance <= 4 ? " (did you mean " + best + "?)" : "";
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
