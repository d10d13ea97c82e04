package io.sandflow.agent;

import java.math.BigDecimal;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How to call the agent CLI: the command, the flags it gets and the environment it needs. Immutable and
 * checked on construction, so a bad setting stops startup with a sentence naming its property key.
 *
 * @param command            the program to run ({@code sandflow.agent.command})
 * @param extraArgs          appended after every other argument ({@code sandflow.agent.args})
 * @param model              {@code --model}, or null for the CLI's default
 * @param fallbackModel      {@code --fallback-model}, or null
 * @param maxTurns           {@code --max-turns}, or null for no limit
 * @param maxBudgetUsd       {@code --max-budget-usd}, or null for no cap
 * @param skipPermissions    pass {@code --dangerously-skip-permissions} (and {@code IS_SANDBOX=1})
 * @param tools              the tool set, e.g. {@code Read,Write,Bash}, or null for the CLI's default
 * @param appendSystemPrompt {@code --append-system-prompt}, or null
 * @param cliRetries         {@code CLAUDE_CODE_MAX_RETRIES}: the CLI's own retries of an API error
 * @param baseUrl            {@code ANTHROPIC_BASE_URL}, or null for the real API
 * @param claudeContract     true when the command takes Claude Code's flags; false for a generic program that
 *                           gets only {@code extraArgs}
 */
public record AgentSettings(
        String command,
        List<String> extraArgs,
        String model,
        String fallbackModel,
        Integer maxTurns,
        BigDecimal maxBudgetUsd,
        boolean skipPermissions,
        String tools,
        String appendSystemPrompt,
        int cliRetries,
        String baseUrl,
        boolean claudeContract) {

    public static final String PREFIX = "sandflow.agent.";

    public AgentSettings {
        command = blankToNull(command);
        if (command == null) {
            throw new IllegalArgumentException(PREFIX + "command must name the agent program");
        }
        requireNoNul(command, "command");
        extraArgs = extraArgs == null ? List.of() : List.copyOf(extraArgs);
        for (String arg : extraArgs) {
            requireNoNul(arg, "extra-args");
        }
        model = blankToNull(model);
        fallbackModel = blankToNull(fallbackModel);
        tools = blankToNull(tools);
        appendSystemPrompt = blankToNull(appendSystemPrompt);
        baseUrl = blankToNull(baseUrl);
        requireNoNul(model, "model");
        requireNoNul(fallbackModel, "fallback-model");
        requireNoNul(tools, "tools");
        requireNoNul(appendSystemPrompt, "append-system-prompt");
        if (maxTurns != null && maxTurns <= 0) {
            throw invalid("max-turns", "must be a positive whole number", maxTurns);
        }
        if (maxBudgetUsd != null && maxBudgetUsd.signum() <= 0) {
            throw invalid("max-budget-usd", "must be a positive amount in US dollars", maxBudgetUsd.toPlainString());
        }
        if (cliRetries < 0) {
            throw invalid("cli-retries", "must be zero or a positive whole number", cliRetries);
        }
        // The CLI refuses a fallback equal to the main model; say so at startup rather than on every job.
        if (model != null && model.equals(fallbackModel)) {
            throw invalid("fallback-model", "must differ from sandflow.agent.model", fallbackModel);
        }
        if (baseUrl != null) {
            checkBaseUrl(baseUrl);
        }
    }

    /**
     * Reads the settings from string properties named {@code sandflow.agent.*}, as the settings layer gives them
     * (its built-in defaults file holds every default); an optional value left blank is unset. Values are checked as
     * strictly as the record's constructor checks them.
     */
    public static AgentSettings fromProperties(Map<String, String> properties) {
        Objects.requireNonNull(properties, "properties");
        return new AgentSettings(
                properties.get(PREFIX + "command"),
                splitArgs(properties.get(PREFIX + "args"), PREFIX + "args"),
                properties.get(PREFIX + "model"),
                properties.get(PREFIX + "fallback-model"),
                parsePositiveInt(properties.get(PREFIX + "max-turns"), "max-turns"),
                parseAmount(properties.get(PREFIX + "max-budget-usd"), "max-budget-usd"),
                parseBoolean(required(properties, "skip-permissions"), "skip-permissions"),
                properties.get(PREFIX + "tools"),
                properties.get(PREFIX + "append-system-prompt"),
                parseCount(required(properties, "cli-retries"), "cli-retries"),
                properties.get(PREFIX + "base-url"),
                claudeContract(required(properties, "contract")));
    }

    private static String required(Map<String, String> properties, String key) {
        String v = blankToNull(properties.get(PREFIX + key));
        if (v == null) {
            throw new IllegalArgumentException(PREFIX + key + " must not be empty");
        }
        return v;
    }

    /**
     * Reads {@code sandflow.agent.contract}, ignoring case: {@code claude} (Claude Code's headless flags) gives true,
     * {@code plain} (only sandflow.agent.args) false.
     */
    public static boolean claudeContract(String value) {
        String v = value == null ? "" : value.trim();
        if (v.equalsIgnoreCase("claude")) {
            return true;
        }
        if (v.equalsIgnoreCase("plain")) {
            return false;
        }
        throw new IllegalArgumentException(PREFIX + "contract must be claude or plain, got '" + value + "'");
    }

    /**
     * Splits a property value into arguments the way a POSIX shell splits words, without expanding anything:
     * whitespace separates, single quotes keep everything literally, double quotes keep everything but let a
     * backslash escape {@code "} and {@code \}, and outside quotes a backslash keeps the next character.
     *
     * @param line the value, may be null or blank (no arguments)
     * @param key  the property key named in the error for an unterminated quote or a trailing backslash
     */
    public static List<String> splitArgs(String line, String key) {
        List<String> args = new ArrayList<>();
        if (line == null) {
            return args;
        }
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        int i = 0;
        int n = line.length();
        while (i < n) {
            char c = line.charAt(i);
            if (Character.isWhitespace(c)) {
                if (inWord) {
                    args.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
                i++;
            } else if (c == '\'') {
                int end = line.indexOf('\'', i + 1);
                if (end < 0) {
                    throw new IllegalArgumentException(key + " has an unterminated single quote at position " + (i + 1)
                            + ": " + line);
                }
                word.append(line, i + 1, end);
                inWord = true;
                i = end + 1;
            } else if (c == '"') {
                int j = i + 1;
                while (true) {
                    if (j >= n) {
                        throw new IllegalArgumentException(key + " has an unterminated double quote at position "
                                + (i + 1) + ": " + line);
                    }
                    char d = line.charAt(j);
                    if (d == '"') {
                        break;
                    }
                    if (d == '\\' && j + 1 < n && (line.charAt(j + 1) == '"' || line.charAt(j + 1) == '\\')) {
                        word.append(line.charAt(j + 1));
                        j += 2;
                    } else {
                        word.append(d);
                        j++;
                    }
                }
                inWord = true;
                i = j + 1;
            } else if (c == '\\') {
                if (i + 1 >= n) {
                    throw new IllegalArgumentException(key + " ends with a lone backslash: " + line);
                }
                word.append(line.charAt(i + 1));
                inWord = true;
                i += 2;
            } else {
                word.append(c);
                inWord = true;
                i++;
            }
        }
        if (inWord) {
            args.add(word.toString());
        }
        return args;
    }

    private static void checkBaseUrl(String value) {
        URI uri;
        try {
            uri = new URI(value);
        } catch (Exception e) {
            throw invalid("base-url", "must be an http or https URL", value);
        }
        String scheme = uri.getScheme();
        if (scheme == null || uri.getHost() == null
                || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))) {
            throw invalid("base-url", "must be an http or https URL", value);
        }
    }

    private static Integer parsePositiveInt(String value, String key) {
        String v = blankToNull(value);
        if (v == null) {
            return null;
        }
        try {
            return Integer.valueOf(v.trim());
        } catch (NumberFormatException e) {
            throw invalid(key, "must be a positive whole number", v);
        }
    }

    private static int parseCount(String v, String key) {
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw invalid(key, "must be zero or a positive whole number", v);
        }
    }

    private static BigDecimal parseAmount(String value, String key) {
        String v = blankToNull(value);
        if (v == null) {
            return null;
        }
        try {
            return new BigDecimal(v.trim());
        } catch (NumberFormatException e) {
            throw invalid(key, "must be a positive amount in US dollars", v);
        }
    }

    private static boolean parseBoolean(String v, String key) {
        return switch (v.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw invalid(key, "must be true or false", v);
        };
    }

    private static void requireNoNul(String value, String key) {
        if (value != null && value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException(PREFIX + key + " must not contain a NUL character");
        }
    }

    private static IllegalArgumentException invalid(String key, String rule, Object got) {
        return new IllegalArgumentException(PREFIX + key + " " + rule + ", got '" + got + "'");
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
