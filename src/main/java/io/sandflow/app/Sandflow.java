package io.sandflow.app;

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
 * Sandflow's command line: {@code run}, {@code run --once}, {@code render FILE}, {@code demo}, {@code doctor}.
 */
@Command(name = "sandflow", mixinStandardHelpOptions = true, version = "Sandflow 0.1.0",
        description = "Runs a sandboxed AI agent over every file dropped into a folder and keeps validated JSON results.",
        subcommands = {Sandflow.Run.class, Sandflow.Render.class, Sandflow.Demo.class, Sandflow.Doctor.class})
public final class Sandflow {

    @Option(names = {"-C", "--dir"}, scope = CommandLine.ScopeType.INHERIT,
            description = "Working folder (default: the current folder).")
    Path dir = Path.of("");

    @Option(names = "--config", scope = CommandLine.ScopeType.INHERIT,
            description = "A properties file read after application.properties.")
    Path config;

    @Option(names = "--profile", scope = CommandLine.ScopeType.INHERIT,
            description = "Also read application-NAME.properties (repeatable).")
    List<String> profiles = new ArrayList<>();

    @Option(names = "-D", scope = CommandLine.ScopeType.INHERIT, mapFallbackValue = "",
            description = "Set one setting, e.g. -Dsandflow.workers=4.")
    Map<String, String> overrides = new LinkedHashMap<>();

    private Sandflow() {
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs a command line and returns its exit code (for tests). */
    public static int execute(String... args) {
        CommandLine cli = new CommandLine(new Sandflow());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            // sandbox: no usable sandbox at start is, like a bad setting, one sentence and exit 2
            if (e instanceof ConfigException || e instanceof io.sandflow.sandbox.SandboxException) {
                cmd.getErr().println("sandflow: " + e.getMessage());
                return Daemon.CONFIG_ERROR;
            }
            throw e;
        });
        return cli.execute(args);
    }

    Settings settings() {
        return Settings.load(dir.toAbsolutePath(), config, profiles, overrides);
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
            return new Daemon(top.settings(), once).run();
        }
    }

    @Command(name = "render", description = "Print the prompt and the exact argv that would run for FILE; runs nothing.")
    static final class Render implements Callable<Integer> {
        @CommandLine.ParentCommand
        Sandflow top;

        @Parameters(paramLabel = "FILE", description = "An input file.")
        Path file;

        @Override
        public Integer call() throws Exception {
            return new RenderCommand(top.settings()).render(file, System.out);
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
