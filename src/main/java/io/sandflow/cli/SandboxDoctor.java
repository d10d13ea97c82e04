package io.sandflow.cli;

import io.sandflow.config.SandflowConfig;
import io.sandflow.config.Settings;
import io.sandflow.process.ProcessRunner;
import io.sandflow.sandbox.CliSandbox;
import io.sandflow.sandbox.DockerSandbox;
import io.sandflow.sandbox.SandboxException;
import io.sandflow.sandbox.SbxSandbox;
import io.sandflow.sandbox.WorkerPool;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code doctor}'s checks of the sandbox: its tool and what srt needs on Linux, the agent's API host on the allowlist,
 * a no-op run inside srt with the configured policy, and, for sbx and docker-sandbox, each worker's sandbox and its
 * network policy.
 */
final class SandboxDoctor {

    /** A host no allowlist of ours names, to see that the default policy denies what is not listed. */
    private static final String PROBE_HOST = "example.com";
    /** Where Claude Code sends its calls when sandflow.agent.base-url is empty. */
    private static final String DEFAULT_API = "https://api.anthropic.com";

    private final DoctorLines lines;
    private final ProcessRunner runner;

    SandboxDoctor(DoctorLines lines, ProcessRunner runner) {
        this.lines = lines;
        this.runner = runner;
    }

    void checkSandboxTool(Settings s, String kind, String command) {
        switch (kind) {
            case "none" -> {
                if (s.bool("sandflow.sandbox.allow-unsandboxed")) {
                    lines.warn("sandbox", "kind none: the agent runs unsandboxed with this user's rights");
                } else {
                    lines.missing("sandbox", "kind none needs sandflow.sandbox.allow-unsandboxed=true; better, pick srt, "
                            + "sbx or docker-sandbox");
                }
            }
            case "srt" -> {
                lines.tool("sandbox", command, "install it with: npm install -g @anthropic-ai/sandbox-runtime");
                if (System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
                    lines.tool("bubblewrap", "bwrap", "srt needs it on Linux: apt-get install bubblewrap");
                    lines.tool("socat", "socat", "srt needs it on Linux: apt-get install socat");
                    lines.tool("ripgrep", "rg", "srt needs it on Linux: apt-get install ripgrep");
                }
            }
            case "sbx" -> lines.tool("sandbox", command, "install Docker Sandboxes' sbx CLI (macOS 14+, Windows 11, "
                    + "Ubuntu 24.04+ with KVM)");
            case "docker-sandbox" -> lines.tool("sandbox", command, "install Docker Desktop 4.58 or later, which brings "
                    + "`docker sandbox`");
            default -> lines.missing("sandbox", "sandflow.sandbox.kind must be srt, sbx, docker-sandbox or none");
        }
    }

    /**
     * The host the agent calls (sandflow.agent.base-url, or the API's own for Claude Code) must be on the allowlist,
     * or every call fails with "Unable to connect to API".
     */
    void checkNetwork(Settings s, String kind) {
        if (kind.equals("none")) {
            return;
        }
        Optional<String> baseUrl = s.optional("sandflow.agent.base-url");
        if (baseUrl.isEmpty() && !DoctorCommand.claudeContract(s)) {
            return;
        }
        String url = baseUrl.orElse(DEFAULT_API);
        java.net.URI uri;
        try {
            uri = new java.net.URI(url);
        } catch (java.net.URISyntaxException e) {
            lines.missing("network", "sandflow.agent.base-url=" + url + " is not a URL (" + e.getReason() + ")");
            return;
        }
        if (uri.getHost() == null) {
            lines.missing("network", "sandflow.agent.base-url=" + url + " names no host");
            return;
        }
        int port = uri.getPort() >= 0 ? uri.getPort() : "http".equalsIgnoreCase(uri.getScheme()) ? 80 : 443;
        List<String> allow = s.list("sandflow.sandbox.network.allow");
        String what = baseUrl.isPresent() ? "sandflow.agent.base-url=" + url + " (from "
                + s.origin("sandflow.agent.base-url") + ")" : "the agent's default API, " + url + ",";
        if (admits(allow, uri.getHost(), port)) {
            lines.ok("network", what + " is on the allowlist");
        } else {
            lines.missing("network", what + " needs " + uri.getHost() + (uri.getPort() >= 0 ? ":" + port : "")
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
    void checkSrtRun(Settings s, String command) {
        Optional<Path> srt = lines.find(command);
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
                lines.missing("sandbox run", unusable.values().iterator().next());
                return;
            }
            Duration timeout = s.duration("sandflow.sandbox.call-timeout");
            io.sandflow.process.ProcessOutcome outcome = runner.run(new io.sandflow.process.ProcessSpec(
                    sandbox.wrap(List.of("true"), ws, Map.of()), Map.of(), ws.root(), new byte[0], timeout,
                    64 * 1024, 4 * 1024));
            if (outcome.timedOut()) {
                lines.missing("sandbox run", "a no-op inside srt did not end within sandflow.sandbox.call-timeout="
                        + s.get("sandflow.sandbox.call-timeout"));
            } else if (outcome.exitCode() != 0) {
                String said = lastLine(outcome.stderrTail().isBlank() ? outcome.stdoutTail() : outcome.stderrTail());
                lines.missing("sandbox run", "a no-op inside srt failed with exit " + outcome.exitCode()
                        + (said.isEmpty() ? "" : ": " + said) + "; agents cannot run here as configured");
            } else {
                lines.ok("sandbox run", "a no-op ran inside srt with the configured policy");
            }
        } catch (IOException | RuntimeException e) {
            lines.missing("sandbox run", "cannot try srt: " + DoctorLines.firstLine(e.getMessage()));
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

    void checkSandboxes(Settings s, String kind, String command) {
        List<String> names;
        List<String> hosts = s.list("sandflow.sandbox.network.allow");
        Duration timeout;
        try {
            names = WorkerPool.sandboxNames(s.positiveInt("sandflow.workers"), s.list("sandflow.sandbox.names"),
                    s.required("sandflow.sandbox.name-prefix"));
            timeout = s.duration("sandflow.sandbox.call-timeout");
        } catch (RuntimeException e) {
            lines.missing("sandboxes", e.getMessage());
            return;
        }
        if (hosts.isEmpty()) {
            lines.missing("network", "sandflow.sandbox.network.allow is empty; list at least api.anthropic.com");
            return;
        }
        CliSandbox cli = kind.equals("sbx") ? new SbxSandbox(command, hosts, timeout, runner)
                : new DockerSandbox(command, hosts, timeout, runner);
        Set<String> existing;
        try {
            existing = cli.listNames();
        } catch (SandboxException e) {
            lines.missing("sandboxes", e.getMessage());
            return;
        }
        for (String name : names) {
            if (!existing.contains(name)) {
                lines.missing("sandbox " + name, "does not exist; `sandflow run` creates it, or create it yourself with `"
                        + cli.cliName() + " create --name " + name + " claude WORKSPACE`");
            } else if (cli instanceof SbxSandbox sbx) {
                checkSbxPolicy(sbx, name, hosts);
            } else {
                lines.warn("sandbox " + name, "exists; `docker sandbox` cannot show its policy, so Sandflow applies "
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
                    lines.missing("sandbox " + name, "exists but denies " + host + "; `sandflow run` applies the policy, "
                            + "or run `sbx policy allow network --sandbox " + name + " " + host + "`");
                    return;
                }
            }
            if (!hosts.contains(PROBE_HOST) && sbx.succeeds(name, "policy check network",
                    sbx.policyCheckArgs(name, PROBE_HOST))) {
                lines.warn("sandbox " + name, "exists and allows the allowlist, but also " + PROBE_HOST + ", which is not on "
                        + "it; make the default deny with `sbx policy init deny-all`");
                return;
            }
            lines.ok("sandbox " + name, "exists; its policy allows the allowlist and denies other hosts");
        } catch (SandboxException e) {
            lines.missing("sandbox " + name, e.getMessage());
        }
    }
}
