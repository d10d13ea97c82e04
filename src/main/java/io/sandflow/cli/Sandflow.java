package io.sandflow.cli;

import io.sandflow.config.ConfigException;
import io.sandflow.config.LogSettings;
import io.sandflow.config.SandflowConfig;
import io.sandflow.config.Settings;
import io.sandflow.flow.Daemon;
import io.sandflow.observe.Logging;
import io.sandflow.store.JobStore;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Sandflow's command line: {@code run}, {@code run --once}, {@code status}, {@code retry-failed},
 * {@code rerun FILE…}, {@code render FILE}, {@code demo}, {@code doctor}, {@code config}, and the views of a
 * batch ({@code show}, {@code export}, {@code report}, {@code estimate}, in {@code io.sandflow.cli}). Logs go to
 * stderr; stdout carries only what a command answers.
 */
@Command(name = "sandflow", mixinStandardHelpOptions = true, version = "Sandflow 0.1.0",
        description = "Runs a sandboxed AI agent over every file dropped into a folder and keeps validated JSON results.",
        subcommands = {Sandflow.Run.class, Sandflow.Status.class, Sandflow.RetryFailed.class, Sandflow.Rerun.class,
                Sandflow.Render.class, Sandflow.Demo.class, Sandflow.Doctor.class, Sandflow.Config.class,
                io.sandflow.cli.ShowCommand.class, io.sandflow.cli.ExportCommand.class,
                io.sandflow.cli.ReportCommand.class, io.sandflow.cli.EstimateCommand.class})
public final class Sandflow {

    @Option(names = {"-C", "--dir"}, scope = CommandLine.ScopeType.INHERIT,
            description = "Working folder (default: the current folder).")
    Path dir = Path.of("");

    @Option(names = "--config", scope = CommandLine.ScopeType.INHERIT,
            description = "A properties file read after application.properties.")
    Path config;

    /** Profiles and -D settings given before and after the command add up (see {@link #profile}, {@link #define}). */
    final List<String> profiles = new ArrayList<>();
    final Map<String, String> overrides = new LinkedHashMap<>();

    // Setters, not fields: picocli gives an inherited multi-value option a new collection where the command names it
    // again, which dropped every -D and --profile given before the command
    @Option(names = "--profile", scope = CommandLine.ScopeType.INHERIT, paramLabel = "NAME",
            description = "Also read application-NAME.properties (repeatable).")
    void profile(List<String> names) {
        names.stream().filter(n -> !profiles.contains(n)).forEach(profiles::add);
    }

    @Option(names = "-D", scope = CommandLine.ScopeType.INHERIT, mapFallbackValue = "", paramLabel = "KEY=VALUE",
            description = "Set one setting, e.g. -Dsandflow.workers=4.")
    void define(Map<String, String> settings) {
        overrides.putAll(settings);
    }

    /** The logging settings applied by {@link #settings()}, undone when the command ends. */
    private Logging.Applied logging;

    private Sandflow() {
    }

    public static void main(String[] args) {
        int code = execute(args);
        Logging.shutdown();
        System.exit(code);
    }

    /** Runs a command line and returns its exit code (for tests). */
    public static int execute(String... args) {
        return execute(null, args);
    }

    /** As {@link #execute(String...)}, with the commands' output going to {@code out} (for tests). */
    public static int execute(java.io.PrintWriter out, String... args) {
        Sandflow top = new Sandflow();
        CommandLine cli = new CommandLine(top);
        // "-C demo" names a folder, even though demo is also a command
        cli.setAllowSubcommandsAsOptionParameters(true);
        if (out != null) {
            cli.setOut(out);
        }
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            // No usable sandbox at start is, like a bad setting, one sentence and exit 2
            if (e instanceof ConfigException || e instanceof io.sandflow.sandbox.SandboxException) {
                cmd.getErr().println("sandflow: " + e.getMessage());
                return Daemon.CONFIG_ERROR;
            }
            throw e;
        });
        try {
            return cli.execute(args);
        } finally {
            if (top.logging != null) {
                top.logging.close();
            }
        }
    }

    /** The settings of this command line: -C, --config, --profile and -D. */
    public Settings settings() {
        return settings(Map.of());
    }

    /** As {@link #settings()}, with a few more settings given the last word. */
    public Settings settings(Map<String, String> more) {
        Map<String, String> all = new LinkedHashMap<>(overrides);
        all.putAll(more);
        Settings settings = Settings.load(dir.toAbsolutePath(), config, profiles, all);
        if (logging == null) {
            logging = Logging.apply(LogSettings.of(settings));
        }
        return settings;
    }

    @Command(name = "run", description = "Run as a daemon over the inbox; with --once, drain it and exit "
            + "(0 all succeeded, 1 some failed, 2 configuration error, 3 jobs still parked).")
    static final class Run implements Callable<Integer> {
        @CommandLine.ParentCommand
        Sandflow top;

        @Option(names = "--once", description = "Drain what is in the inbox, then exit.")
        boolean once;

        @Override
        public Integer call() throws Exception {
            return new Daemon(SandflowConfig.of(top.settings()), once).run();
        }
    }

    @Command(name = "status", description = "Show jobs by state, spend, tokens, pace, ETA, the circuit breaker and "
            + "the most common failure reasons; reads the store, also while the daemon runs.")
    static final class Status implements Callable<Integer> {
        @CommandLine.ParentCommand
        Sandflow top;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--json", description = "Print JSON instead of a table.")
        boolean json;

        @Option(names = "--top", defaultValue = "5", description = "How many failure reasons to show (default: 5).")
        int reasons;

        @Override
        public Integer call() {
            // Settings only, not SandflowConfig: status must answer fast and needs no template nor schema
            Settings settings = top.settings();
            try (JobStore store = StoreCommands.openStore(settings)) {
                io.sandflow.ops.StatusReport report = io.sandflow.ops.StatusReport.read(store, settings, reasons);
                spec.commandLine().getOut().print(json ? report.json() + System.lineSeparator() : report.text());
                spec.commandLine().getOut().flush();
            }
            return 0;
        }
    }

    @Command(name = "retry-failed", description = "Move failed inputs back into the inbox and forget their failed "
            + "jobs so that they run again: all of them, the named ones, or those whose reason contains TEXT. "
            + "Their reports move to failed/.retried/. Exit 1 when a named file was not found.")
    static final class RetryFailed implements Callable<Integer> {
        @CommandLine.ParentCommand
        Sandflow top;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--reason", paramLabel = "TEXT",
                description = "Only jobs whose failure reason contains TEXT (ignoring case).")
        String reason;

        @Parameters(paramLabel = "FILE", arity = "0..*", description = "Names of inputs in failed/ (default: all).")
        List<String> names = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            Settings settings = top.settings();
            SandflowConfig.Folders folders = SandflowConfig.of(settings).folders();
            java.io.PrintWriter out = spec.commandLine().getOut();
            try (JobStore store = StoreCommands.openStore(settings)) {
                io.sandflow.ops.FailedInputs.Outcome done = new io.sandflow.ops.FailedInputs(store, folders.failed(),
                        folders.inbox()).retry(names, reason);
                done.requeued().forEach(n -> out.println("re-queued " + n));
                done.alreadyInInbox().forEach(n -> out.println("left in failed/: " + n
                        + " (a file of that name already waits in the inbox)"));
                done.noInput().forEach(n -> out.println("forgot " + n + ", but its input is not in failed/: drop it "
                        + "into the inbox to run it"));
                done.notFound().forEach(n -> out.println("not found among the failed jobs: " + n));
                out.println(done.requeued().size() + " input(s) back in the inbox");
                out.flush();
                return done.notFound().isEmpty() && done.alreadyInInbox().isEmpty() ? 0 : 1;
            }
        }
    }

    @Command(name = "rerun", description = "Run the named inputs again, even when their content did not change. "
            + "Each is taken from the inbox, else from archive/ (its latest copy there), else from failed/ (its "
            + "report moves to failed/.retried/), and waits in the inbox under its own name. Its new result "
            + "replaces the one in the outbox, which is kept in outbox/.previous/. Exit 1 when a named file was not "
            + "found, or a different file of that name already waits in the inbox.")
    static final class Rerun implements Callable<Integer> {
        @CommandLine.ParentCommand
        Sandflow top;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(paramLabel = "FILE", arity = "1..*",
                description = "Names of inputs (a path such as archive/a.json stands for its name, a.json).")
        List<String> names = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            Settings settings = top.settings();
            SandflowConfig.Folders folders = SandflowConfig.of(settings).folders();
            java.io.PrintWriter out = spec.commandLine().getOut();
            try (JobStore store = StoreCommands.openStore(settings)) {
                io.sandflow.ops.Reruns.Outcome done = new io.sandflow.ops.Reruns(store, folders.inbox(),
                        folders.archive(), folders.failed()).rerun(names);
                done.queued().forEach(q -> out.println("queued " + q.name() + " (from " + q.from() + "/) to run "
                        + "again"));
                done.inboxTaken().forEach(n -> out.println("left where it is: " + n + " (a different file of that "
                        + "name already waits in the inbox)"));
                done.notFound().forEach(n -> out.println("not found in the inbox, archive/ nor failed/: " + n));
                out.println(done.queued().size() + " input(s) will run again");
                out.flush();
                return done.notFound().isEmpty() && done.inboxTaken().isEmpty() ? 0 : 1;
            }
        }
    }

    @Command(name = "render", description = "Print the prompt and the exact argv that would run for FILE; runs nothing.")
    static final class Render implements Callable<Integer> {
        @CommandLine.ParentCommand
        Sandflow top;

        @Parameters(paramLabel = "FILE", description = "An input file.")
        Path file;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            java.io.PrintWriter out = spec.commandLine().getOut();
            int code = new RenderCommand(top.settings()).render(file, out);
            out.flush();
            return code;
        }
    }

    @Command(name = "doctor", description = "Check the agent CLI, the sandbox tool and its sandboxes, the API key, "
            + "the folders and the store; say what is missing (exit 0 when nothing is, 1 otherwise).")
    static final class Doctor implements Callable<Integer> {
        @CommandLine.ParentCommand
        Sandflow top;

        @Override
        public Integer call() {
            return new DoctorCommand().run(top.settings(), System.out);
        }
    }

    @Command(name = "config", description = "Print every effective setting with where it came from (the built-in "
            + "defaults, a file and line, a built-in profile, -D); secrets are masked.")
    static final class Config implements Callable<Integer> {
        @CommandLine.ParentCommand
        Sandflow top;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            return ConfigCommand.print(top.settings(), System.getenv(), spec.commandLine().getOut());
        }
    }

    @Command(name = "demo", description = "Copy the bundled example inputs into ./demo and drain them with the offline "
            + "demo agent (no Claude account needed).")
    static final class Demo implements Callable<Integer> {
        @CommandLine.ParentCommand
        Sandflow top;

        @Override
        public Integer call() throws Exception {
            return DemoCommand.run(top.dir.toAbsolutePath(), top.overrides);
        }
    }
}
