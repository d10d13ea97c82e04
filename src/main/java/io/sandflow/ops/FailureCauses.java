package io.sandflow.ops;

import io.sandflow.store.StatusSnapshot.FailureReason;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Groups failure reasons by state and cause rather than by exact text: two reasons that differ only in a value (a
 * number, a quoted string, a path in a worker's folder) are one cause. A group is shown by its most common wording.
 */
public final class FailureCauses {

    private static final Pattern PATH = Pattern.compile("/(?:[^/\\s:;,'\"()]+/){2,}[^\\s:;,'\"()]*");
    /** Quoted text; an apostrophe inside a word ("agent's") opens no quote. */
    private static final Pattern QUOTED = Pattern.compile("(?<!\\w)'[^']*'(?!\\w)|\"[^\"]*\"|«[^»]*»");
    private static final Pattern NUMBER = Pattern.compile("\\d+(?:[.,:]\\d+)*");

    private FailureCauses() {
    }

    /** One cause: the jobs in {@code state} whose reasons read {@code reason} up to their values. */
    public record Cause(io.sandflow.job.JobState state, String reason, long count, List<String> sampleNames,
                        int variants) {
    }

    /**
     * The causes as {@code status} and {@code report} print them, under one heading: a line per cause (jobs, state,
     * wording), then its sample names. Nothing when there are none.
     */
    public static void appendText(StringBuilder out, List<Cause> causes) {
        if (causes.isEmpty()) {
            return;
        }
        out.append("why jobs failed or wait").append(System.lineSeparator());
        for (Cause c : causes) {
            out.append(String.format(Locale.ROOT, "  %6d  %-6s  %s%s%n", c.count(),
                    c.state().name().toLowerCase(Locale.ROOT), c.reason(),
                    c.variants() > 1 ? " (and " + (c.variants() - 1) + " like it with other values)" : ""));
            if (!c.sampleNames().isEmpty()) {
                out.append("                  ").append(String.join(", ", c.sampleNames()))
                        .append(c.count() > c.sampleNames().size() ? ", …" : "").append(System.lineSeparator());
            }
        }
    }

    /** The text a reason is grouped by: its values masked. */
    static String key(String reason) {
        if (reason == null) {
            return "";
        }
        String masked = PATH.matcher(reason).replaceAll("/…");
        masked = QUOTED.matcher(masked).replaceAll("'…'");
        return NUMBER.matcher(masked).replaceAll("#");
    }

    /** The reasons regrouped by cause, most jobs first, at most {@code top}; each keeps up to {@code samples} names. */
    public static List<Cause> group(List<FailureReason> reasons, int top, int samples) {
        Map<String, List<FailureReason>> byCause = new LinkedHashMap<>();
        for (FailureReason r : reasons) {
            byCause.computeIfAbsent(r.state() + "\u0000" + key(r.reason()), k -> new ArrayList<>()).add(r);
        }
        List<Cause> causes = new ArrayList<>();
        for (List<FailureReason> group : byCause.values()) {
            FailureReason shown = group.stream().max(Comparator.comparingLong(FailureReason::count)
                    .thenComparing(r -> r.reason() == null ? "" : r.reason(), Comparator.reverseOrder())).orElseThrow();
            TreeSet<String> names = new TreeSet<>();
            group.forEach(r -> names.addAll(r.sampleNames()));
            causes.add(new Cause(shown.state(), shown.reason(), group.stream().mapToLong(FailureReason::count).sum(),
                    names.stream().limit(samples).toList(), group.size()));
        }
        causes.sort(Comparator.comparingLong(Cause::count).reversed().thenComparing(c -> c.state().name())
                .thenComparing(c -> c.reason() == null ? "" : c.reason()));
        return causes.size() > top ? List.copyOf(causes.subList(0, Math.max(0, top))) : List.copyOf(causes);
    }
}
