package io.sandflow.report;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How the results' values at one JSON pointer are spread: one bar per value, in the order the schema's {@code enum}
 * lists them when it does (the grade bands), else most common first (a few numbers: smallest first); numbers with
 * more distinct values than fit on a screen fall into ten equal ranges. Results without a value there are counted
 * apart.
 */
public record Histogram(String pointer, List<Bar> bars, long withoutValue) {

    /** Distinct numbers shown one bar each; more are grouped into {@value #BINS} ranges. */
    static final int MAX_DISTINCT = 12;
    static final int BINS = 10;
    /** The longest bar, in characters. */
    static final int WIDTH = 40;

    /** One value (or range) and how many results have it. */
    public record Bar(String label, long count) {
    }

    public Histogram {
        bars = List.copyOf(bars);
    }

    /**
     * @param enumOrder the values the schema allows at the pointer, in its order; empty when it names none
     */
    public static Histogram of(JsonPointer pointer, Collection<JsonNode> results, List<String> enumOrder) {
        List<JsonNode> values = new ArrayList<>();
        long without = 0;
        for (JsonNode r : results) {
            JsonNode v = r.at(pointer);
            if (v.isMissingNode() || v.isNull()) {
                without++;
            } else {
                values.add(v);
            }
        }
        List<Bar> bars;
        if (!values.isEmpty() && values.stream().allMatch(JsonNode::isNumber)
                && values.stream().map(JsonNode::decimalValue).map(BigDecimal::stripTrailingZeros).distinct().count()
                > MAX_DISTINCT) {
            bars = ranges(values);
        } else {
            Map<String, Long> counts = new LinkedHashMap<>();
            enumOrder.forEach(v -> counts.put(v, 0L));
            List<String> seen = new ArrayList<>();
            for (JsonNode v : values) {
                String label = ResultField.text(v);
                if (!counts.containsKey(label)) {
                    seen.add(label);
                }
                counts.merge(label, 1L, Long::sum);
            }
            bars = new ArrayList<>();
            for (String v : enumOrder) {
                bars.add(new Bar(v, counts.get(v)));
            }
            List<Bar> others = new ArrayList<>();
            for (String v : seen.stream().distinct().toList()) {
                others.add(new Bar(v, counts.get(v)));
            }
            if (!values.isEmpty() && values.stream().allMatch(JsonNode::isNumber)) {
                // a few numbers read best in their own order
                others.sort(Comparator.comparing(b -> new BigDecimal(b.label())));
            } else {
                others.sort(Comparator.comparingLong(Bar::count).reversed().thenComparing(Bar::label));
            }
            bars.addAll(others);
        }
        return new Histogram(pointer.toString(), bars, without);
    }

    /** Ten equal ranges from the smallest value to the largest; whole numbers give whole ranges. */
    private static List<Bar> ranges(List<JsonNode> values) {
        double min = values.stream().mapToDouble(JsonNode::asDouble).min().orElseThrow();
        double max = values.stream().mapToDouble(JsonNode::asDouble).max().orElseThrow();
        boolean whole = values.stream().allMatch(JsonNode::canConvertToExactIntegral);
        double width = whole ? Math.ceil((max - min + 1) / BINS) : (max - min) / BINS;
        long[] counts = new long[BINS];
        for (JsonNode v : values) {
            int i = (int) Math.floor((v.asDouble() - min) / width);
            counts[Math.min(BINS - 1, Math.max(0, i))]++;
        }
        List<Bar> bars = new ArrayList<>();
        for (int i = 0; i < BINS; i++) {
            double from = min + i * width;
            String label = whole ? String.format(Locale.ROOT, "%d–%d", (long) from, (long) (from + width - 1))
                    : String.format(Locale.ROOT, "%.4g–%.4g", from, i == BINS - 1 ? max : from + width);
            if (whole && from > max) {
                break;
            }
            bars.add(new Bar(label, counts[i]));
        }
        return bars;
    }

    public long total() {
        return bars.stream().mapToLong(Bar::count).sum() + withoutValue;
    }

    /**
     * Count, bar, then the value: a right-to-left value at the end of its line leaves the columns before it where
     * they are, whatever the terminal does with bidirectional text.
     */
    public String text() {
        StringBuilder out = new StringBuilder();
        long most = Math.max(withoutValue, bars.stream().mapToLong(Bar::count).max().orElse(0));
        int digits = Long.toString(Math.max(1, most)).length();
        List<Bar> shown = new ArrayList<>(bars);
        if (withoutValue > 0) {
            shown.add(new Bar("(no value)", withoutValue));
        }
        for (Bar b : shown) {
            int len = most == 0 ? 0 : (int) Math.round((double) b.count() * WIDTH / most);
            if (b.count() > 0 && len == 0) {
                len = 1;
            }
            out.append(String.format(Locale.ROOT, "  %" + digits + "d  %-" + WIDTH + "s  %s%n", b.count(),
                    "█".repeat(len), b.label()));
        }
        return out.toString();
    }

    public ObjectNode json() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("pointer", pointer);
        ArrayNode arr = o.putArray("bars");
        for (Bar b : bars) {
            arr.addObject().put("value", b.label()).put("count", b.count());
        }
        o.put("withoutValue", withoutValue);
        return o;
    }

    /**
     * The values a JSON Schema's {@code enum} allows at the pointer, following {@code properties} (and
     * {@code items} for array indexes); empty when the schema names none there.
     */
    public static List<String> enumAt(JsonNode schema, JsonPointer pointer) {
        JsonNode node = schema;
        JsonPointer p = pointer;
        while (node != null && !p.matches()) {
            String token = p.getMatchingProperty();
            JsonNode props = node.get("properties");
            if (props != null && props.has(token)) {
                node = props.get(token);
            } else if (p.mayMatchElement() && node.has("items")) {
                node = node.get("items");
            } else {
                return List.of();
            }
            p = p.tail();
        }
        JsonNode values = node == null ? null : node.get("enum");
        if (values == null || !values.isArray()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        values.forEach(v -> out.add(ResultField.text(v)));
        return out;
    }
}
