package io.sandflow.cli;

import io.sandflow.config.ConfigException;
import io.sandflow.config.Settings;
import io.sandflow.report.Batch;
import io.sandflow.report.Export;
import io.sandflow.report.ResultField;
import io.sandflow.report.ResultFiles;
import io.sandflow.store.JobStore;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code sandflow export}: one row per job, with the chosen result fields, as CSV or JSON Lines. */
@Command(name = "export", description = "Write one row per job (file, state, class, reason, attempts, cost, tokens, "
        + "duration, node, finish time, result file) plus the chosen result fields, as CSV or JSON Lines, to stdout "
        + "or a file.")
public final class ExportCommand implements Callable<Integer> {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger("sandflow");

    @CommandLine.ParentCommand
    Sandflow top;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--format", defaultValue = "csv", paramLabel = "csv|jsonl",
            description = "csv (RFC 4180) or jsonl (one JSON object a line); default csv.")
    String format;

    @Option(names = "--out", paramLabel = "FILE", description = "Write to FILE (replaced whole) instead of stdout.")
    Path outFile;

    @Option(names = "--field", paramLabel = "NAME=/json/pointer",
            description = "A result field to add as a column (repeatable); replaces sandflow.export.fields.")
    List<String> fields = new ArrayList<>();

    @Option(names = "--bom", description = "Start the CSV with a UTF-8 byte order mark, for spreadsheet programs.")
    boolean bom;

    @Override
    public Integer call() throws IOException {
        Export.Format fmt;
        try {
            fmt = Export.Format.of(format);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
        if (bom && fmt != Export.Format.CSV) {
            throw new ConfigException("--bom is for --format csv only: a byte order mark would break a JSON Lines "
                    + "file");
        }
        Settings settings = top.settings();
        List<ResultField> chosen = Inputs.fields(fields, settings);
        Export export = new Export(chosen);
        Batch batch;
        try (JobStore store = StoreCommands.openStore(settings)) {
            batch = Batch.of(store.jobs(), new ResultFiles(settings.path("sandflow.outbox")));
        }
        if (outFile == null) {
            Writer out = spec.commandLine().getOut();
            write(export, fmt, batch, out);
        } else {
            Path target = outFile.toAbsolutePath();
            Path tmp = null;
            try {
                tmp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp");
                try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                    write(export, fmt, batch, w);
                }
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new ConfigException("--out " + outFile + " cannot be written: " + (Files.isDirectory(
                        target.getParent()) ? e.getClass().getSimpleName() + " " + e.getMessage()
                        : "the folder " + target.getParent() + " does not exist"));
            } finally {
                if (tmp != null) {
                    Files.deleteIfExists(tmp);
                }
            }
        }
        long results = batch.rows().stream().filter(Batch.Row::hasResult).count();
        for (ResultField f : export.unmatched(batch)) {
            LOG.warn("the field {} ({}) matched nothing in {} result(s); its column is empty", f.name(), f.pointer(),
                    results);
        }
        return 0;
    }

    private void write(Export export, Export.Format fmt, Batch batch, Writer out) throws IOException {
        if (fmt == Export.Format.CSV) {
            export.csv(batch, out, bom);
        } else {
            export.jsonl(batch, out);
        }
        out.flush();
    }
}
