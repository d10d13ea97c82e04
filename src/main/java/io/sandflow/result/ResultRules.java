package io.sandflow.result;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads {@code sandflow.result.rules}: rules separated by {@code ;}, each
 * {@code <score pointer> -> <label pointer> : label=min..max, label=min..max, …}.
 */
public final class ResultRules {

    public static final String KEY = "sandflow.result.rules";

    private ResultRules() {
    }

    /** The rules in the property value; none for null or blank. */
    public static List<ResultRule> parse(String value) {
        List<ResultRule> rules = new ArrayList<>();
        if (value == null || value.isBlank()) {
            return rules;
        }
        for (String part : value.split(";")) {
            if (!part.isBlank()) {
                rules.add(parseBand(part.strip()));
            }
        }
        return List.copyOf(rules);
    }

    private static BandRule parseBand(String text) {
        int arrow = text.indexOf("->");
        if (arrow < 0) {
            throw syntax(text, "has no '->' between the score pointer and the label pointer");
        }
        int colon = text.indexOf(':', arrow);
        if (colon < 0) {
            throw syntax(text, "has no ':' before its bands");
        }
        String scorePath = text.substring(0, arrow).strip();
        String labelPath = text.substring(arrow + 2, colon).strip();
        String bandsText = text.substring(colon + 1).strip();
        if (scorePath.isEmpty() || labelPath.isEmpty()) {
            throw syntax(text, "needs a JSON Pointer on each side of '->'");
        }
        if (bandsText.isEmpty()) {
            throw syntax(text, "has no bands after ':'");
        }
        List<BandRule.Band> bands = new ArrayList<>();
        for (String item : bandsText.split(",")) {
            bands.add(parseBandItem(text, item.strip()));
        }
        return new BandRule(scorePath, labelPath, bands);
    }

    private static BandRule.Band parseBandItem(String rule, String item) {
        int eq = item.lastIndexOf('=');
        int dots = item.indexOf("..", eq + 1);
        if (eq <= 0 || dots < 0) {
            throw syntax(rule, "has a band '" + item + "' not written as label=min..max");
        }
        String label = item.substring(0, eq).strip();
        String min = item.substring(eq + 1, dots).strip();
        String max = item.substring(dots + 2).strip();
        if (label.isEmpty()) {
            throw syntax(rule, "has a band '" + item + "' without a label");
        }
        try {
            return new BandRule.Band(label, new BigDecimal(min), new BigDecimal(max));
        } catch (NumberFormatException e) {
            throw syntax(rule, "has a band '" + item + "' whose bounds are not numbers");
        }
    }

    private static IllegalArgumentException syntax(String rule, String problem) {
        return new IllegalArgumentException(KEY + ": the rule '" + rule + "' " + problem
                + " (expected e.g. '/score -> /grade : good=60..79, excellent=80..100')");
    }
}
