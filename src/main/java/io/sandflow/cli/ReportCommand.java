package io.sandflow.cli;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sandflow.config.ConfigException;
import io.sandflow.config.Settings;
import io.sandflow.report.Batch;
import io.sandflow.report.BatchReport;
import io.sandflow.report.Histogram;
import io.sandflow.report.ResultField;
import io.sandflow.report.ResultFiles;
import io.sandflow.store.JobStore;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.Instant;
import java.util.concurrent.Callable;

/** {@code sandflow report}: how the batch went, with a histogram of one result field. */
@Command(name = "report", description = "Summarise the batch: jobs by state, spend and tokens, wall and agent time, "
        + "throughput, the top failure causes, and a text histogram of one result field.")
public final class ReportCommand implements Callable<Integer> {

    @CommandLine.ParentCommand
    Sandflow top;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--histogram", paramLabel = "/json/pointer",
            description = "The result field to draw a histogram of (default: sandflow.report.histogram; empty for "
                    + "none).")
    String histogram;

    @Option(names = "--top", defaultValue = "5", description = "How many failure causes to show (default: 5).")
    int reasons;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Settings settings = top.settings();
        JsonPointer pointer = pointer(settings);
        BatchReport report;
        try (JobStore store = StoreCommands.openStore(settings)) {
            var status = io.sandflow.ops.StatusReport.read(store, settings, reasons);
            var jobs = store.jobs();
            Histogram h = null;
            if (pointer != null) {
                Batch batch = Batch.of(jobs, new ResultFiles(settings.path("sandflow.outbox")));
                h = Histogram.of(pointer, batch.results(), Histogram.enumAt(schema(settings), pointer));
            }
            report = new BatchReport(status, jobs, store.attemptsEndedSince(Instant.EPOCH), h);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.print(json ? report.json() + System.lineSeparator() : report.text());
        out.flush();
        return 0;
    }

    private JsonPointer pointer(Settings settings) {
        boolean own = histogram != null;
        String text = own ? histogram : settings.optional("sandflow.report.histogram").orElse("");
        if (text.isBlank()) {
            return null;
        }
        try {
            return ResultField.pointer(text.strip(), text);
        } catch (IllegalArgumentException e) {
            if (own) {
                throw new ConfigException("--histogram: " + e.getMessage());
            }
            throw settings.invalid("sandflow.report.histogram", "must be a JSON pointer such as /grade");
        }
    }

    /** The result schema, for the order of an enum's values; none when it cannot be read. */
    private static JsonNode schema(Settings settings) {
        try {
            return new ObjectMapper().readTree(settings.text("sandflow.result.schema"));
        } catch (RuntimeException | java.io.IOException e) {
            return new ObjectMapper().createObjectNode();
        }
    }
}
