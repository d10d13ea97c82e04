package io.sandflow.cli;

import io.sandflow.config.Settings;
import io.sandflow.job.JobState;
import io.sandflow.report.JobHistory;
import io.sandflow.report.ResultFiles;
import io.sandflow.result.OutputNames;
import io.sandflow.store.JobRecord;
import io.sandflow.store.JobStore;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code sandflow show FILE…}: each job of those inputs with every agent run it had. */
@Command(name = "show", description = "Show the jobs of the named inputs with every agent run they had: start, end, "
        + "exit code, failure class and reason, cost, tokens, node and sandbox; and where the result or report is. "
        + "Exit 1 when the store knows no job of a name.")
public final class ShowCommand implements Callable<Integer> {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger("sandflow");

    @CommandLine.ParentCommand
    Sandflow top;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--json", description = "Print JSON (an array of jobs) instead of text.")
    boolean json;

    @Parameters(paramLabel = "FILE", arity = "1..*",
            description = "Input names (a path such as failed/a.json stands for its name, a.json).")
    List<String> names = new ArrayList<>();

    @Override
    public Integer call() {
        Settings settings = top.settings();
        PrintWriter out = spec.commandLine().getOut();
        ResultFiles outbox = new ResultFiles(settings.path("sandflow.outbox"));
        ResultFiles failed = new ResultFiles(settings.path("sandflow.failed"));
        List<JobHistory> shown = new ArrayList<>();
        int missing = 0;
        try (JobStore store = StoreCommands.openStore(settings)) {
            for (String typed : names) {
                String name = Inputs.name(typed);
                List<JobRecord> jobs = store.findByName(name);
                if (jobs.isEmpty()) {
                    LOG.warn("the store knows no job of {}", name);
                    missing++;
                }
                for (JobRecord j : jobs) {
                    String result = j.state() == JobState.DONE && j.outputName() != null
                            && outbox.file(j.outputName()).isPresent() ? j.outputName() : null;
                    String report = OutputNames.reportName(j.name());
                    shown.add(new JobHistory(j, store.attempts(j.id()),
                            result == null ? null : settings.get("sandflow.outbox") + "/" + result,
                            j.state() == JobState.FAILED && failed.file(report).isPresent()
                                    ? settings.get("sandflow.failed") + "/" + report : null));
                }
            }
        }
        if (json) {
            var array = new com.fasterxml.jackson.databind.ObjectMapper()
                    .enable(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT).createArrayNode();
            shown.forEach(h -> array.add(h.json()));
            out.println(array.toPrettyString());
        } else {
            for (int i = 0; i < shown.size(); i++) {
                if (i > 0) {
                    out.println();
                }
                out.print(shown.get(i).text());
            }
        }
        out.flush();
        return missing == 0 ? 0 : 1;
    }
}
