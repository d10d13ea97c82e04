package io.sandflow.result;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;

import java.math.BigDecimal;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A label field must agree with a numeric score: each label owns an inclusive band of scores, e.g.
 * {@code /score -> /grade : good=60..79, excellent=80..100}. Bands may leave gaps but may not overlap.
 */
public final class BandRule implements ResultRule {

    /** One label and the inclusive range of scores that call for it. */
    public record Band(String label, BigDecimal min, BigDecimal max) {
        public Band {
            Objects.requireNonNull(label, "label");
            Objects.requireNonNull(min, "min");
            Objects.requireNonNull(max, "max");
        }

        boolean contains(BigDecimal score) {
            return min.compareTo(score) <= 0 && score.compareTo(max) <= 0;
        }

        @Override
        public String toString() {
            return label + "=" + plain(min) + ".." + plain(max);
        }
    }

    private final String scorePath;
    private final String labelPath;
    private final JsonPointer score;
    private final JsonPointer label;
    private final List<Band> bands;

    public BandRule(String scorePath, String labelPath, List<Band> bands) {
        this.scorePath = scorePath;
        this.labelPath = labelPath;
        this.score = pointer(scorePath);
        this.label = pointer(labelPath);
        this.bands = List.copyOf(bands);
        if (this.bands.isEmpty()) {
            throw new IllegalArgumentException(ResultRules.KEY + ": the rule for " + labelPath + " has no bands");
        }
        for (int i = 0; i < this.bands.size(); i++) {
            Band a = this.bands.get(i);
            if (a.min().compareTo(a.max()) > 0) {
                throw new IllegalArgumentException(ResultRules.KEY + ": band " + a + " of " + labelPath
                        + " runs backwards");
            }
            for (int j = 0; j < i; j++) {
                Band b = this.bands.get(j);
                if (b.label().equals(a.label())) {
                    throw new IllegalArgumentException(ResultRules.KEY + ": label '" + a.label() + "' of "
                            + labelPath + " has two bands");
                }
                if (a.min().compareTo(b.max()) <= 0 && b.min().compareTo(a.max()) <= 0) {
                    throw new IllegalArgumentException(ResultRules.KEY + ": bands " + b + " and " + a + " of "
                            + labelPath + " overlap");
                }
            }
        }
    }

    public String scorePath() {
        return scorePath;
    }

    public String labelPath() {
        return labelPath;
    }

    public List<Band> bands() {
        return bands;
    }

    @Override
    public List<String> check(JsonNode result) {
        JsonNode scoreNode = result == null ? null : result.at(score);
        JsonNode labelNode = result == null ? null : result.at(label);
        boolean hasScore = present(scoreNode);
        boolean hasLabel = present(labelNode);
        if (!hasScore && !hasLabel) {
            return List.of(); // Nothing to agree; whether they are required is the schema's call.
        }
        if (!hasScore) {
            return List.of(labelPath + " is set but " + scorePath + " is missing, so the label cannot be checked");
        }
        if (!hasLabel) {
            return List.of(scorePath + " is set but " + labelPath + " is missing");
        }
        if (!scoreNode.isNumber()) {
            return List.of(scorePath + " must be a number, got " + scoreNode);
        }
        if (!labelNode.isTextual()) {
            return List.of(labelPath + " must be a string, got " + labelNode);
        }
        BigDecimal value = scoreNode.decimalValue();
        String given = labelNode.asText();
        Band wanted = bands.stream().filter(b -> b.contains(value)).findFirst().orElse(null);
        if (wanted == null) {
            return List.of(scorePath + " = " + plain(value) + " falls in no band of " + labelPath + " ("
                    + describeBands() + ")");
        }
        if (wanted.label().equals(given)) {
            return List.of();
        }
        if (bands.stream().noneMatch(b -> b.label().equals(given))) {
            return List.of(labelPath + " is '" + given + "', which is none of "
                    + bands.stream().map(b -> "'" + b.label() + "'").collect(Collectors.joining(", "))
                    + "; " + scorePath + " = " + plain(value) + " calls for '" + wanted.label() + "'");
        }
        return List.of(labelPath + " is '" + given + "' but " + scorePath + " = " + plain(value) + " calls for '"
                + wanted.label() + "'");
    }

    @Override
    public String toString() {
        return scorePath + " -> " + labelPath + " : " + describeBands();
    }

    private String describeBands() {
        return bands.stream().map(Band::toString).collect(Collectors.joining(", "));
    }

    private static boolean present(JsonNode node) {
        return node != null && !node.isMissingNode() && !node.isNull();
    }

    private static JsonPointer pointer(String path) {
        if (path == null || !path.startsWith("/")) {
            throw new IllegalArgumentException(ResultRules.KEY + ": '" + path
                    + "' is not a JSON Pointer to a field (it must start with '/')");
        }
        try {
            return JsonPointer.compile(path);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(ResultRules.KEY + ": '" + path + "' is not a valid JSON Pointer: "
                    + e.getMessage(), e);
        }
    }

    private static String plain(BigDecimal d) {
        return d.stripTrailingZeros().toPlainString();
    }
}
