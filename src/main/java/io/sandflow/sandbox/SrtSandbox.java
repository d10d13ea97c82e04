package io.sandflow.sandbox;

import io.sandflow.job.Json;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sandflow.process.ProcessOutcome;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Anthropic's sandbox-runtime ({@code srt}): bubblewrap on Linux, sandbox-exec on macOS. Each worker gets its own
 * settings file: writes only inside its workspace, no reads of secrets, the store, the config or other workers,
 * and network only to the allowlist.
 */
public final class SrtSandbox implements Sandbox {

    private static final List<String> HOME_SECRETS = List.of(".ssh", ".aws", ".config/gcloud", ".azure", ".gnupg",
            ".docker", ".kube", ".netrc", ".git-credentials", ".config/gh", ".npmrc", ".pypirc", ".claude",
            ".claude.json", ".config/sandflow");

    private final String command;
    private final List<String> allowedHosts;
    private final List<Path> secretPaths;
    private final Path userHome;
    private final boolean clearNoProxy;

    /**
     * @param command      the srt executable
     * @param allowedHosts the network allowlist (hosts, {@code *.domain}, {@code host:port})
     * @param secretPaths  paths no agent may read (the store, Sandflow's config, credentials folders)
     */
    public SrtSandbox(String command, List<String> allowedHosts, List<Path> secretPaths) {
        this(command, allowedHosts, secretPaths, Path.of(System.getProperty("user.home")));
    }

    /** @param userHome the real home whose credential folders are hidden (tests pass a fake one) */
    SrtSandbox(String command, List<String> allowedHosts, List<Path> secretPaths, Path userHome) {
        this.command = command;
        this.allowedHosts = List.copyOf(allowedHosts);
        this.secretPaths = List.copyOf(secretPaths);
        this.userHome = userHome.toAbsolutePath();
        this.clearNoProxy = allowedHosts.stream().anyMatch(SrtSandbox::isHostLocal);
    }

    /**
     * Whether an allowlist entry names the host's loopback or a private-network address literal. srt puts exactly
     * those in the sandbox's NO_PROXY, yet inside its network namespace there is no route to them except its proxy:
     * a client honouring NO_PROXY connects to the namespace's own empty loopback and is refused. When such an
     * address is allowlisted on purpose (an API gateway on the LAN, a test stand-in on 127.0.0.1), the agent must
     * send that traffic through the proxy too, where the allowlist still decides.
     */
    static boolean isHostLocal(String entry) {
        String host = entry.trim().toLowerCase(java.util.Locale.ROOT);
        if (host.startsWith("[")) {
            return host.startsWith("[::1]");
        }
        int colon = host.indexOf(':');
        if (colon >= 0) {
            host = host.substring(0, colon);
        }
        if (host.equals("localhost") || host.equals("::1")) {
            return true;
        }
        String[] parts = host.split("\\.");
        if (parts.length != 4) {
            return false;
        }
        int[] octets = new int[4];
        for (int i = 0; i < 4; i++) {
            if (!parts[i].matches("\\d{1,3}")) {
                return false;
            }
            octets[i] = Integer.parseInt(parts[i]);
        }
        return octets[0] == 127 || octets[0] == 10 || (octets[0] == 172 && octets[1] >= 16 && octets[1] <= 31)
                || (octets[0] == 192 && octets[1] == 168) || (octets[0] == 169 && octets[1] == 254);
    }

    @Override
    public String kind() {
        return "srt";
    }

    @Override
    public boolean isolated() {
        return true;
    }

    @Override
    public Optional<String> program() {
        return Optional.of(command);
    }

    /** Writes each worker's settings file; a worker whose file cannot be written is unusable. */
    @Override
    public Map<Workspace, String> prepare(List<Workspace> workspaces) {
        Map<Workspace, String> unusable = new java.util.LinkedHashMap<>();
        for (Workspace ws : workspaces) {
            List<Path> others = new ArrayList<>();
            for (Workspace other : workspaces) {
                if (other.index() != ws.index()) {
                    others.add(other.root());
                    // where Sandflow reads another worker's output file, out of that agent's reach
                    others.add(other.taken());
                }
            }
            try {
                Files.write(settingsFile(ws), settings(ws, others), java.nio.file.StandardOpenOption.CREATE,
                        java.nio.file.StandardOpenOption.TRUNCATE_EXISTING, java.nio.file.StandardOpenOption.WRITE);
            } catch (IOException e) {
                unusable.put(ws, "sandbox srt (worker " + ws.index() + "): cannot write its settings file "
                        + settingsFile(ws) + " (" + e.getMessage() + ")");
            }
        }
        return unusable;
    }

    /** The settings file lives beside the workspace, not in it, so the agent cannot rewrite its own policy. */
    static Path settingsFile(Workspace ws) {
        return ws.root().resolveSibling(ws.root().getFileName() + ".srt.json");
    }

    byte[] settings(Workspace ws, List<Path> otherWorkspaces) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        ObjectNode network = root.putObject("network");
        ArrayNode allowed = network.putArray("allowedDomains");
        allowedHosts.forEach(allowed::add);
        network.putArray("deniedDomains");
        ObjectNode fs = root.putObject("filesystem");
        ArrayNode denyRead = fs.putArray("denyRead");
        // The agent's HOME is its own folder in the workspace, so nothing of the real home is needed: hide where
        // credentials usually live, including the real Claude login, which the agent must not copy.
        for (String secret : HOME_SECRETS) {
            denyRead.add(userHome.resolve(secret).toString());
        }
        secretPaths.forEach(p -> denyRead.add(p.toAbsolutePath().toString()));
        otherWorkspaces.forEach(p -> denyRead.add(p.toAbsolutePath().toString()));
        fs.putArray("allowRead");
        // The workspace holds the agent's input, output, home and temp folder; nothing else may change.
        ArrayNode allowWrite = fs.putArray("allowWrite");
        allowWrite.add(ws.root().toAbsolutePath().toString());
        fs.putArray("denyWrite");
        try {
            return Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public List<String> wrap(List<String> agentArgv, Workspace ws, Map<String, String> env) {
        List<String> argv = new ArrayList<>(agentArgv.size() + 4);
        argv.add(command);
        argv.add("-s");
        argv.add(settingsFile(ws).toAbsolutePath().toString());
        argv.add("--");
        if (clearNoProxy) {
            // See isHostLocal: srt sets NO_PROXY inside the sandbox, so only a command run inside can unset it.
            argv.addAll(List.of("env", "-u", "NO_PROXY", "-u", "no_proxy"));
        }
        argv.addAll(agentArgv);
        return argv;
    }

    /** srt refuses to start (missing bubblewrap, socat or ripgrep; bad settings) with an error and no stdout. */
    @Override
    public Optional<String> failureOf(Workspace ws, ProcessOutcome outcome) {
        if (!Sandbox.wrapperGaveUp(outcome)) {
            return Optional.empty();
        }
        String[] lines = outcome.stderrTail().strip().split("\\R");
        String last = lines[lines.length - 1].strip();
        return Optional.of("sandbox srt (worker " + ws.index() + "): `" + command + "` failed with exit "
                + outcome.exitCode() + " and printed nothing" + (last.isEmpty() ? "" : ": " + last));
    }
}
