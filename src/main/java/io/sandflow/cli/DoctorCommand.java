package io.sandflow.cli;

import io.sandflow.config.ConfigException;
import io.sandflow.flow.RouteFiles;
import io.sandflow.config.HttpPort;
import io.sandflow.config.Settings;
import io.sandflow.config.SandflowConfig;
import io.sandflow.process.ProcessRunner;
import io.sandflow.sandbox.Sandboxes;
import io.sandflow.store.JobStore;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code sandflow doctor}: checks what a run needs and says in plain words what is missing and how to fix it,
 * one line per check ({@code ok}, {@code WARN}, {@code MISSING}). Exit 0 when nothing is missing, 1 otherwise.
 * It never prints a secret's value, only whether it is there.
 */
public final class DoctorCommand {

    private final Map<String, String> env;
    private final ProcessRunner runner;
    /** This run's lines and count of what is missing. */
    private DoctorLines lines;

    public DoctorCommand() {
        this(System.getenv(), new ProcessRunner());
    }

    /** @param env the environment to judge (tests pass their own) */
    public DoctorCommand(Map<String, String> env, ProcessRunner runner) {
        this.env = Map.copyOf(env);
        this.runner = runner;
    }

    public int run(Settings settings, PrintStream out) {
        lines = new DoctorLines(out, env);
        SandboxDoctor sandboxes = new SandboxDoctor(lines, runner);
        String kind = settings.get("sandflow.sandbox.kind").trim().toLowerCase(Locale.ROOT);
        String sandboxCommand = settings.optional("sandflow.sandbox.command").orElse(Sandboxes.defaultCommand(kind));
        SandflowConfig config = null;
        try {
            config = SandflowConfig.of(settings);
            lines.ok("settings", "every setting is valid");
        } catch (RuntimeException e) {
            lines.missing("settings", e.getMessage());
        }
        checkRoutes(settings, config);
        checkAgent(settings, kind, config != null ? config.sandbox().sandbox() : sandboxOf(settings, kind,
                sandboxCommand));
        sandboxes.checkSandboxTool(settings, kind, sandboxCommand);
        sandboxes.checkNetwork(settings, kind);
        if (kind.equals("srt")) {
            sandboxes.checkSrtRun(settings, sandboxCommand);
        }
        checkApiKey(settings, kind);
        if (kind.equals("sbx") || kind.equals("docker-sandbox")) {
            sandboxes.checkSandboxes(settings, kind, sandboxCommand);
        }
        for (String key : List.of("sandflow.inbox", "sandflow.outbox", "sandflow.failed", "sandflow.archive",
                "sandflow.workspace")) {
            checkWritable(settings, key);
        }
        checkStore(settings);
        checkHttp(settings);
        int missing = lines.missing();
        out.println(missing == 0 ? "Nothing is missing." : missing + " thing(s) missing; fix them and run "
                + "`sandflow doctor` again.");
        return missing == 0 ? 0 : 1;
    }

    /** The route files as the daemon would load them: YAML, the routes it needs, and every bean and method. */
    private void checkRoutes(Settings s, SandflowConfig config) {
        try {
            RouteFiles routes = RouteFiles.of(s.workDir());
            routes.check();
            if (config != null) {
                routes.verify(config);
            }
            long own = routes.files().stream().filter(f -> !f.builtIn()).count();
            lines.ok("routes", own == 0 ? "the built-in routes" : own + " file(s) of routes/ with the built-in ones they "
                    + "do not replace; every route can be created");
        } catch (ConfigException e) {
            lines.missing("routes", e.getMessage());
        }
    }



    /** The sandbox the settings name, to ask where the agent runs; null when the settings cannot make one. */
    private io.sandflow.sandbox.Sandbox sandboxOf(Settings s, String kind, String command) {
        try {
            // Doctor only inspects it: consent to no sandbox is the settings check's to judge
            return Sandboxes.create(kind, command, true, s.list("sandflow.sandbox.network.allow"), List.of(),
                    Sandboxes.DEFAULT_CALL_TIMEOUT, runner);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private void checkAgent(Settings s, String kind, io.sandflow.sandbox.Sandbox sandbox) {
        String command = s.required("sandflow.agent.command");
        if (sandbox != null && !sandbox.agentRunsOnHost()) {
            lines.ok("agent", "`" + command + "` runs inside the " + kind + " sandbox; the sandbox template ships it");
            return;
        }
        lines.find(command).ifPresentOrElse(
                p -> lines.ok("agent", "`" + command + "` is " + p),
                () -> lines.missing("agent", "`" + command + "` (sandflow.agent.command) is not on PATH; install the agent "
                        + "CLI (for Claude Code: npm install -g @anthropic-ai/claude-code) or set an absolute path"));
    }


    private void checkApiKey(Settings s, String kind) {
        if (!claudeContract(s) || s.optional("sandflow.agent.base-url").isPresent()) {
            lines.ok("api key", "not needed here (a plain agent or a gateway at sandflow.agent.base-url)");
            return;
        }
        boolean present = !env.getOrDefault("ANTHROPIC_API_KEY", "").isBlank();
        switch (kind) {
            case "sbx" -> lines.warn("api key", "sbx keeps the key in its own secret store; run `sbx secret set anthropic` "
                    + "once (Sandflow never passes it on a command line)");
            case "docker-sandbox" -> {
                if (present) {
                    lines.warn("api key", "ANTHROPIC_API_KEY is set here, but the sandbox sees the one Docker Desktop was "
                            + "started with: set it in your shell profile and restart Docker Desktop");
                } else {
                    lines.missing("api key", "ANTHROPIC_API_KEY is not set; export it in your shell profile and restart "
                            + "Docker Desktop so that the sandboxes inherit it");
                }
            }
            default -> {
                if (present) {
                    lines.ok("api key", "ANTHROPIC_API_KEY is set (the agent gets it through its environment only)");
                } else if (!env.getOrDefault("CLAUDE_CODE_OAUTH_TOKEN", "").isBlank()) {
                    lines.ok("api key", "CLAUDE_CODE_OAUTH_TOKEN is set (the agent gets it through its environment only)");
                } else {
                    lines.missing("api key", "ANTHROPIC_API_KEY is not set; export it before starting Sandflow");
                }
            }
        }
    }

    /** Under the Claude Code contract; an unreadable contract counts as claude (the settings check names it). */
    static boolean claudeContract(Settings s) {
        try {
            return io.sandflow.agent.AgentSettings.claudeContract(s.get("sandflow.agent.contract"));
        } catch (RuntimeException e) {
            return true;
        }
    }


    private void checkWritable(Settings s, String key) {
        Path dir;
        try {
            dir = s.path(key);
        } catch (RuntimeException e) {
            lines.missing(key, e.getMessage());
            return;
        }
        Path existing = dir;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing != null && Files.isDirectory(existing) && Files.isWritable(existing)) {
            lines.ok(key, dir + (existing.equals(dir) ? " is writable" : " will be created"));
        } else {
            lines.missing(key, dir + " is not a writable folder; create it or point " + key + " elsewhere");
        }
    }

    private void checkStore(Settings s) {
        String url;
        try {
            url = SandflowConfig.storeUrl(s);
        } catch (RuntimeException e) {
            lines.missing("store", e.getMessage());
            return;
        }
        try (JobStore store = JobStore.open(url, env.get("SANDFLOW_STORE_USER"), env.get("SANDFLOW_STORE_PASSWORD"))) {
            lines.ok("store", "opened " + url.replaceAll("(?i)(password=)[^;&]*", "$1***"));
        } catch (Exception e) {
            lines.missing("store", "cannot open sandflow.store.url: " + DoctorLines.firstLine(e.getMessage()));
        }
    }

    /** The management server's address: in range, on this machine, and not held by another program. */
    private void checkHttp(Settings s) {
        int port;
        String host;
        try {
            port = HttpPort.port(s);
            host = HttpPort.host(s);
        } catch (RuntimeException e) {
            lines.missing("http", e.getMessage());
            return;
        }
        if (port == 0) {
            lines.ok("http", "no management server (sandflow.http.port=0)");
            return;
        }
        HttpPort.problem(host, port).ifPresentOrElse(p -> lines.missing("http", p),
                () -> lines.ok("http", "metrics and health will listen on " + host + ":" + port));
    }

}
