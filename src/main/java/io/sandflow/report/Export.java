package io.sandflow.report;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sandflow.job.FailureClass;
import io.sandflow.job.Json;
import io.sandflow.store.JobRecord;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

import java.io.IOException;
import java.io.Writer;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code sandflow export}: one row per job (file, state, failure class and reason, attempts, cost, tokens, duration,
 * node, finish time, result file) followed by the chosen result fields, as CSV (commons-csv, RFC 4180) or JSON
 * Lines (Jackson). Text is written as it is, Arabic included; numbers are plain, with a dot.
 */
public final class Export {

    /** The two formats. */
    public enum Format {
        CSV, JSONL;

        /** csv or jsonl, any case. */
        public static Format of(String text) {
            for (Format f : values()) {
                if (f.name().equalsIgnoreCase(text)) {
                    return f;
                }
            }
            throw new IllegalArgumentException("--format must be csv or jsonl, not '" + text + "'");
        }
    }

    /** U+FEFF: tells spreadsheet programs that the file is UTF-8. */
    static final char BOM = '\uFEFF';

    private static final ObjectMapper JSON = new ObjectMapper().disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);

    private final List<ResultField> fields;

    public Export(List<ResultField> fields) {
        this.fields = List.copyOf(fields);
    }

    /** The header: the job's columns, then the fields' names. */
    public List<String> header() {
        List<String> header = new ArrayList<>(ResultField.JOB_COLUMNS);
        fields.forEach(f -> header.add(f.name()));
        return header;
    }

    /** Fields whose pointer finds a value in none of the rows' results: worth a word to whoever chose them. */
    public List<ResultField> unmatched(Batch batch) {
        return fields.stream().filter(f -> batch.rows().stream().filter(Batch.Row::hasResult)
                .allMatch(r -> f.valueIn(r.result()).isMissingNode())).toList();
    }

    public void csv(Batch batch, Writer out, boolean bom) throws IOException {
        if (bom) {
            out.write(BOM);
        }
        CSVFormat format = CSVFormat.RFC4180.builder().setHeader(header().toArray(String[]::new)).get();
        CSVPrinter printer = new CSVPrinter(out, format);
        for (Batch.Row row : batch.rows()) {
            JobRecord j = row.job();
            List<String> cells = new ArrayList<>(header().size());
            cells.add(j.name());
            cells.add(state(j));
            cells.add(failureClass(j));
            cells.add(reason(j));
            cells.add(Integer.toString(j.attempts()));
            cells.add(plain(j.costUsd()));
            cells.add(Long.toString(j.inputTokens()));
            cells.add(Long.toString(j.outputTokens()));
            cells.add(j.durationMs() == null ? "" : seconds(j.durationMs()));
            cells.add(j.owner() == null ? "" : j.owner());
            cells.add(j.finishedAt() == null ? "" : j.finishedAt().toString());
            cells.add(row.hasResult() ? j.outputName() : "");
            for (ResultField f : fields) {
                cells.add(f.textIn(row.result()));
            }
            printer.printRecord(cells);
        }
        printer.flush();
    }

    public void jsonl(Batch batch, Writer out) throws IOException {
        for (Batch.Row row : batch.rows()) {
            JSON.writeValue(out, object(row));
            out.write('\n');
        }
        out.flush();
    }

    /** One row as a JSON object: the job's columns, numbers as numbers, then each field's JSON value or null. */
    public ObjectNode object(Batch.Row row) {
        JobRecord j = row.job();
        ObjectNode o = JSON.createObjectNode();
        o.put("file", j.name());
        o.put("state", state(j));
        Json.putText(o, "class", failureClass(j));
        Json.putText(o, "reason", reason(j));
        o.put("attempts", j.attempts());
        o.put("cost_usd", j.costUsd() == null ? BigDecimal.ZERO : j.costUsd().stripTrailingZeros());
        o.put("tokens_in", j.inputTokens());
        o.put("tokens_out", j.outputTokens());
        if (j.durationMs() == null) {
            o.putNull("duration_s");
        } else {
            o.put("duration_s", BigDecimal.valueOf(j.durationMs(), 3).stripTrailingZeros());
        }
        Json.putText(o, "node", j.owner() == null ? "" : j.owner());
        Json.putText(o, "finished_at", j.finishedAt() == null ? "" : j.finishedAt().toString());
        Json.putText(o, "result_file", row.hasResult() ? j.outputName() : "");
        for (ResultField f : fields) {
            JsonNode v = f.valueIn(row.result());
            if (v.isMissingNode()) {
                o.putNull(f.name());
            } else {
                o.set(f.name(), v);
            }
        }
        return o;
    }

    static String state(JobRecord j) {
        return j.state().name().toLowerCase(Locale.ROOT);
    }

    /** The failure class of a job that did not succeed; none for a done one (its earlier retries are history). */
    static String failureClass(JobRecord j) {
        FailureClass c = j.failureClass();
        return c == null || j.state() == io.sandflow.job.JobState.DONE ? "" : c.label();
    }

    static String reason(JobRecord j) {
        if (j.state() == io.sandflow.job.JobState.DONE || j.failureReason() == null) {
            return "";
        }
        return j.failureReason();
    }

    static String plain(BigDecimal amount) {
        return amount == null || amount.signum() == 0 ? "0" : amount.stripTrailingZeros().toPlainString();
    }

    static String seconds(long millis) {
        return BigDecimal.valueOf(millis, 3).stripTrailingZeros().toPlainString();
    }
}
