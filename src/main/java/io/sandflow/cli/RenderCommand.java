package io.sandflow.cli;

import io.sandflow.config.ConfigException;
import io.sandflow.config.Settings;
import io.sandflow.config.SandflowConfig;
import io.sandflow.flow.AgentCall;
import io.sandflow.job.InputCheck;
import io.sandflow.result.OutputNames;
import io.sandflow.sandbox.Workspace;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * {@code render FILE}: shows exactly what the first attempt for FILE would send and run, without running it.
 */
final class RenderCommand {

    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_./:=@%+,-]+");

    private final Settings settings;

    RenderCommand(Settings settings) {
        this.settings = settings;
    }

    int render(Path file, PrintWriter out) throws Exception {
        SandflowConfig config = SandflowConfig.of(settings);
        Path input = settings.workDir().resolve(file).normalize();
        if (!Files.isRegularFile(input)) {
            throw new ConfigException("render: no such file " + input);
        }
        String name = input.getFileName().toString();
        InputCheck.Checked checked = config.intake().check().check(Files.readAllBytes(input));
        Workspace ws = new Workspace(1, "sandflow-1", config.folders().workspace().resolve("worker-1"));
        AgentCall attempt = AgentCall.of(config, ws, name, ws.input().resolve(name), checked.text(), checked.json(), 1,
                "", OutputNames.resolve(config.results().namePattern(), name));
        out.println("# prompt (sent on stdin)");
        out.println(attempt.prompt());
        out.println("# argv (one argument per line; sandbox " + config.sandbox().sandbox().kind() + ")");
        attempt.argv().forEach(a -> out.println(quote(a)));
        out.println("# environment added for the agent (ANTHROPIC_API_KEY is inherited, never shown)");
        attempt.env().forEach((k, v) -> out.println(v == null ? "# " + k + " is removed (a secret the agent does not "
                + "inherit)" : k + "=" + quote(v)));
        out.println("# working folder: " + ws.root());
        return 0;
    }

    /** Quotes an argument the way a POSIX shell would need it, for reading only: nothing is ever run through a shell. */
    static String quote(String arg) {
        if (!arg.isEmpty() && PLAIN.matcher(arg).matches()) {
            return arg;
        }
        return "'" + arg.replace("'", "'\\''") + "'";
    }
}
