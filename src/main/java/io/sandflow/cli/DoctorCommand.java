package io.sandflow.cli;

import io.sandflow.config.ConfigException;
import io.sandflow.flow.RouteFiles;
import io.sandflow.config.HttpPort;
import io.sandflow.config.Settings;
import io.sandflow.config.SandflowConfig;
import io.sandflow.process.ProcessRunner;
import io.sandflow.sandbox.CliSandbox;
import io.sandflow.sandbox.DockerSandbox;
import io.sandflow.sandbox.SandboxException;
import io.sandflow.sandbox.Sandboxes;
import io.sandflow.sandbox.SbxSandbox;
import io.sandflow.sandbox.WorkerPool;
import io.sandflow.store.JobStore;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code sandflow doctor}: checks what a run needs and says in plain words what is missing and how to fix it,
 * one line per check ({@code ok}, {@code WARN}, {@code MISSING}). Exit 0 when nothing is missing, 1 otherwise.
 * It never prints a secret's value, only whether it is there.
 */
public final class DoctorCommand {

    /** A host no allowlist of ours names, to see that the default policy denies what is not listed. */
    private static final String PROBE_HOST = "example.com";
    /** Where Claude Code sends its calls when sandflow.agent.base-url is empty. */
    private static final String DEFAULT_API = "https://api.anthropic.com";

    private final Map<String, String> env;
    private final ProcessRunner runner;
    private PrintStream out;
    private int missing;

    public DoctorCommand() {
        this(System.getenv(), new ProcessRunner());
    }

    /** @param env the environment to judge (tests pass their own) */
    public DoctorCommand(Map<String, String> env, ProcessRunner runner) {
        this.env = Map.copyOf(env);
        this.runner = runner;
    }

    public int run(Settings settings, PrintStream out) {
        this.out = out;
        this.missing = 0;
        String kind = settings.get("sandflow.sandbox.kind").trim().toLowerCase(Locale.ROOT);
        String sandboxCommand = settings.optional("sandflow.sandbox.command").orElse(Sandboxes.defaultCommand(kind));
        SandflowConfig config = null;
        try {
            config = SandflowConfig.of(settings);
            ok("settings", "every setting is valid");
        } catch (RuntimeException e) {
            missing("settings", e.getMessage());
        }
        checkRoutes(settings, config);
        checkAgent(settings, kind, config != null ? config.sandbox().sandbox() : sandboxOf(settings, kind,
                sandboxCommand));
        checkSandboxTool(settings, kind, sandboxCommand);
        checkNetwork(settings, kind);
        if (kind.equals("srt")) {
            checkSrtRun(settings, sandboxCommand);
        }
        checkApiKey(settings, kind);
        if (kind.equals("sbx") || kind.equals("docker-sandbox")) {
            checkSandboxes(settings, kind, sandboxCommand);
        }
        for (String key : List.of("sandflow.inbox", "sandflow.outbox", "sandflow.failed", "sandflow.workspace")) {
            checkWritable(settings, key);
        }
        checkStore(settings);
        checkHttp(settings);
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
            ok("routes", own == 0 ? "the built-in routes" : own + " file(s) of routes/ with the built-in ones they "
                    + "do not replace; every route can be created");
        } catch (ConfigException e) {
            missing("routes", e.getMessage());
        }
    }

    /**
     * The host the agent calls (sandflow.agent.base-url, or the API's own for Claude Code) must be on the allowlist,
     * or every call fails with "Unable to connect to API".
     */
    private void checkNetwork(Settings s, String kind) {
        if (kind.equals("none")) {
            return;
        }
        Optional<String> baseUrl = s.optional("sandflow.agent.base-url");
        if (baseUrl.isEmpty() && !claudeContract(s)) {
            return;
        }
        String url = baseUrl.orElse(DEFAULT_API);
        java.net.URI uri;
        try {
            uri = new java.net.URI(url);
        } catch (java.net.URISyntaxException e) {
            missing("network", "sandflow.agent.base-url=" + url + " is not a URL (" + e.getReason() + ")");
            return;
        }
        if (uri.getHost() == null) {
            missing("network", "sandflow.agent.base-url=" + url + " names no host");
            return;
        }
        int port = uri.getPort() >= 0 ? uri.getPort() : "http".equalsIgnoreCase(uri.getScheme()) ? 80 : 443;
        List<String> allow = s.list("sandflow.sandbox.network.allow");
        String what = baseUrl.isPresent() ? "sandflow.agent.base-url=" + url + " (from "
                + s.origin("sandflow.agent.base-url") + ")" : "the agent's default API, " + url + ",";
        if (admits(allow, uri.getHost(), port)) {
            ok("network", what + " is on the allowlist");
        } else {
            missing("network", what + " needs " + uri.getHost() + (uri.getPort() >= 0 ? ":" + port : "")
                    + ", which sandflow.sandbox.network.allow (from " + s.origin("sandflow.sandbox.network.allow")
                    + ") does not admit, so every agent call would fail with \"Unable to connect to API\"; add it "
                    + "to the allowlist");
        }
    }

    /** An entry admits a host by name (any port), by name and port, or as {@code *.domain} for its subdomains. */
    static boolean admits(List<String> allow, String host, int port) {
        String h = host.toLowerCase(Locale.ROOT);
        for (String raw : allow) {
            String entry = raw.trim().toLowerCase(Locale.ROOT);
            String entryHost = entry;
            Integer entryPort = null;
            int colon = entry.lastIndexOf(':');
            if (colon > 0 && !entry.startsWith("[") && entry.indexOf(':') == colon
                    && entry.substring(colon + 1).matches("\\d{1,5}")) {
                entryHost = entry.substring(0, colon);
                entryPort = Integer.parseInt(entry.substring(colon + 1));
            }
            if (entryPort != null && entryPort != port) {
                continue;
            }
            if (entryHost.startsWith("*.") ? h.endsWith(entryHost.substring(1)) : h.equals(entryHost)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Runs a no-op inside srt with the policy the agents get (allowlist, hidden paths, a worker's writable workspace),
     * in a throw-away workspace: whether bubblewrap may create its namespaces here is only known by trying.
     */
    private void checkSrtRun(Settings s, String command) {
        Optional<Path> srt = find(command);
        if (srt.isEmpty()) {
            return;
        }
        Path tmp = null;
        try {
            tmp = Files.createTempDirectory("sandflow-doctor-");
            io.sandflow.sandbox.Workspace ws = new io.sandflow.sandbox.Workspace(1, "doctor", tmp.resolve("worker-1"));
            ws.create();
            io.sandflow.sandbox.SrtSandbox sandbox = new io.sandflow.sandbox.SrtSandbox(srt.get().toString(),
                    s.list("sandflow.sandbox.network.allow"), SandflowConfig.secretPaths(s));
            Map<io.sandflow.sandbox.Workspace, String> unusable = sandbox.prepare(List.of(ws));
            if (!unusable.isEmpty()) {
                missing("sandbox run", unusable.values().iterator().next());
                return;
            }
            Duration timeout = s.duration("sandflow.sandbox.call-timeout");
            io.sandflow.process.ProcessOutcome outcome = runner.run(new io.sandflow.process.ProcessSpec(
                    sandbox.wrap(List.of("true"), ws, Map.of()), Map.of(), ws.root(), new byte[0], timeout,
                    64 * 1024, 4 * 1024));
            if (outcome.timedOut()) {
                missing("sandbox run", "a no-op inside srt did not end within sandflow.sandbox.call-timeout="
                        + s.get("sandflow.sandbox.call-timeout"));
            } else if (outcome.exitCode() != 0) {
                String said = lastLine(outcome.stderrTail().isBlank() ? outcome.stdoutTail() : outcome.stderrTail());
                missing("sandbox run", "a no-op inside srt failed with exit " + outcome.exitCode()
                        + (said.isEmpty() ? "" : ": " + said) + "; agents cannot run here as configured");
            } else {
                ok("sandbox run", "a no-op ran inside srt with the configured policy");
            }
        } catch (IOException | RuntimeException e) {
            missing("sandbox run", "cannot try srt: " + firstLine(e.getMessage()));
        } finally {
            if (tmp != null) {
                deleteTree(tmp);
            }
        }
    }

    private static String lastLine(String text) {
        String[] lines = text.strip().split("\\R");
        return lines[lines.length - 1].strip();
    }

    private static void deleteTree(Path root) {
        try (java.util.stream.Stream<Path> paths = Files.walk(root)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // A temp folder left behind is harmless
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
        String command = s.optional("sandflow.agent.command").orElse("claude");
        if (sandbox != null && !sandbox.agentRunsOnHost()) {
            ok("agent", "`" + command + "` runs inside the " + kind + " sandbox; the sandbox template ships it");
            return;
        }
        find(command).ifPresentOrElse(
                p -> ok("agent", "`" + command + "` is " + p),
                () -> missing("agent", "`" + command + "` (sandflow.agent.command) is not on PATH; install the agent "
                        + "CLI (for Claude Code: npm install -g @anthropic-ai/claude-code) or set an absolute path"));
    }

    private void checkSandboxTool(Settings s, String kind, String command) {
        switch (kind) {
            case "none" -> {
                if (s.bool("sandflow.sandbox.allow-unsandboxed")) {
                    warn("sandbox", "kind none: the agent runs unsandboxed with this user's rights");
                } else {
                    missing("sandbox", "kind none needs sandflow.sandbox.allow-unsandboxed=true; better, pick srt, "
                            + "sbx or docker-sandbox");
                }
            }
            case "srt" -> {
                tool("sandbox", command, "install it with: npm install -g @anthropic-ai/sandbox-runtime");
                if (System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
                    tool("bubblewrap", "bwrap", "srt needs it on Linux: apt-get install bubblewrap");
                    tool("socat", "socat", "srt needs it on Linux: apt-get install socat");
                    tool("ripgrep", "rg", "srt needs it on Linux: apt-get install ripgrep");
                }
            }
            case "sbx" -> tool("sandbox", command, "install Docker Sandboxes' sbx CLI (macOS 14+, Windows 11, "
                    + "Ubuntu 24.04+ with KVM)");
            case "docker-sandbox" -> tool("sandbox", command, "install Docker Desktop 4.58 or later, which brings "
                    + "`docker sandbox`");
            default -> missing("sandbox", "sandflow.sandbox.kind must be srt, sbx, docker-sandbox or none");
        }
    }

    private void checkApiKey(Settings s, String kind) {
        if (!claudeContract(s) || s.optional("sandflow.agent.base-url").isPresent()) {
            ok("api key", "not needed here (a plain agent or a gateway at sandflow.agent.base-url)");
            return;
        }
        boolean present = !env.getOrDefault("ANTHROPIC_API_KEY", "").isBlank();
        switch (kind) {
            case "sbx" -> warn("api key", "sbx keeps the key in its own secret store; run `sbx secret set anthropic` "
                    + "once (Sandflow never passes it on a command line)");
            case "docker-sandbox" -> {
                if (present) {
                    warn("api key", "ANTHROPIC_API_KEY is set here, but the sandbox sees the one Docker Desktop was "
                            + "started with: set it in your shell profile and restart Docker Desktop");
                } else {
                    missing("api key", "ANTHROPIC_API_KEY is not set; export it in your shell profile and restart "
                            + "Docker Desktop so that the sandboxes inherit it");
                }
            }
            default -> {
                if (present) {
                    ok("api key", "ANTHROPIC_API_KEY is set (the agent gets it through its environment only)");
                } else if (!env.getOrDefault("CLAUDE_CODE_OAUTH_TOKEN", "").isBlank()) {
                    ok("api key", "CLAUDE_CODE_OAUTH_TOKEN is set (the agent gets it through its environment only)");
                } else {
                    missing("api key", "ANTHROPIC_API_KEY is not set; export it before starting Sandflow");
                }
            }
        }
    }

    /** Under the Claude Code contract; an unreadable contract counts as claude (the settings check names it). */
    private static boolean claudeContract(Settings s) {
        try {
            return io.sandflow.agent.AgentSettings.claudeContract(s.get("sandflow.agent.contract"));
        } catch (RuntimeException e) {
            return true;
        }
    }

    private void checkSandboxes(Settings s, String kind, String command) {
        List<String> names;
        List<String> hosts = s.list("sandflow.sandbox.network.allow");
        Duration timeout;
        try {
            names = WorkerPool.sandboxNames(s.positiveInt("sandflow.workers"), s.list("sandflow.sandbox.names"),
                    s.required("sandflow.sandbox.name-prefix"));
            timeout = s.duration("sandflow.sandbox.call-timeout");
        } catch (RuntimeException e) {
            missing("sandboxes", e.getMessage());
            return;
        }
        if (hosts.isEmpty()) {
            missing("network", "sandflow.sandbox.network.allow is empty; list at least api.anthropic.com");
            return;
        }
        CliSandbox cli = kind.equals("sbx") ? new SbxSandbox(command, hosts, timeout, runner)
                : new DockerSandbox(command, hosts, timeout, runner);
        Set<String> existing;
        try {
            existing = cli.listNames();
        } catch (SandboxException e) {
            missing("sandboxes", e.getMessage());
            return;
        }
        for (String name : names) {
            if (!existing.contains(name)) {
                missing("sandbox " + name, "does not exist; `sandflow run` creates it, or create it yourself with `"
                        + cli.cliName() + " create --name " + name + " claude WORKSPACE`");
            } else if (cli instanceof SbxSandbox sbx) {
                checkSbxPolicy(sbx, name, hosts);
            } else {
                warn("sandbox " + name, "exists; `docker sandbox` cannot show its policy, so Sandflow applies "
                        + "--policy deny with the allowlist at every start");
            }
        }
    }

    private void checkSbxPolicy(SbxSandbox sbx, String name, List<String> hosts) {
        try {
            for (String host : hosts) {
                // A pattern is not a host that can be checked; its exact hosts stand for the list.
                if (!host.startsWith("*.") && !sbx.succeeds(name, "policy check network",
                        sbx.policyCheckArgs(name, host))) {
                    missing("sandbox " + name, "exists but denies " + host + "; `sandflow run` applies the policy, "
                            + "or run `sbx policy allow network --sandbox " + name + " " + host + "`");
                    return;
                }
            }
            if (!hosts.contains(PROBE_HOST) && sbx.succeeds(name, "policy check network",
                    sbx.policyCheckArgs(name, PROBE_HOST))) {
                warn("sandbox " + name, "exists and allows the allowlist, but also " + PROBE_HOST + ", which is not on "
                        + "it; make the default deny with `sbx policy init deny-all`");
                return;
            }
            ok("sandbox " + name, "exists; its policy allows the allowlist and denies other hosts");
        } catch (SandboxException e) {
            missing("sandbox " + name, e.getMessage());
        }
    }

    private void checkWritable(Settings s, String key) {
        Path dir;
        try {
            dir = s.path(key);
        } catch (RuntimeException e) {
            missing(key, e.getMessage());
            return;
        }
        Path existing = dir;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing != null && Files.isDirectory(existing) && Files.isWritable(existing)) {
            ok(key, dir + (existing.equals(dir) ? " is writable" : " will be created"));
        } else {
            missing(key, dir + " is not a writable folder; create it or point " + key + " elsewhere");
        }
    }

    private void checkStore(Settings s) {
        String url;
        try {
            url = SandflowConfig.storeUrl(s);
        } catch (RuntimeException e) {
            missing("store", e.getMessage());
            return;
        }
        try (JobStore store = JobStore.open(url, env.get("SANDFLOW_STORE_USER"), env.get("SANDFLOW_STORE_PASSWORD"))) {
            ok("store", "opened " + url.replaceAll("(?i)(password=)[^;&]*", "$1***"));
        } catch (Exception e) {
            missing("store", "cannot open sandflow.store.url: " + firstLine(e.getMessage()));
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
            missing("http", e.getMessage());
            return;
        }
        if (port == 0) {
            ok("http", "no management server (sandflow.http.port=0)");
            return;
        }
        HttpPort.problem(host, port).ifPresentOrElse(p -> missing("http", p),
                () -> ok("http", "metrics and health will listen on " + host + ":" + port));
    }

    private void tool(String what, String command, String fix) {
        find(command).ifPresentOrElse(p -> ok(what, "`" + command + "` is " + p),
                () -> missing(what, "`" + command + "` is not on PATH; " + fix));
    }

    private Optional<Path> find(String command) {
        if (command.contains(File.separator)) {
            Path p = Path.of(command);
            return Files.isExecutable(p) && !Files.isDirectory(p) ? Optional.of(p) : Optional.empty();
        }
        for (String entry : env.getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (entry.isEmpty()) {
                continue;
            }
            Path p = Path.of(entry, command);
            if (Files.isExecutable(p) && !Files.isDirectory(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unknown error";
        }
        return message.strip().split("\\R", 2)[0];
    }

    private void ok(String what, String text) {
        out.println("ok       " + what + ": " + text);
    }

    private void warn(String what, String text) {
        out.println("WARN     " + what + ": " + text);
    }

    private void missing(String what, String text) {
        missing++;
        out.println("MISSING  " + what + ": " + text);
    }
}
