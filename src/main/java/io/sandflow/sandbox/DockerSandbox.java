package io.sandflow.sandbox;

import io.sandflow.process.ProcessRunner;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Docker Sandboxes through Docker Desktop's legacy {@code docker sandbox} commands, the ones the seed used. The
 * agent inside reads ANTHROPIC_API_KEY from the environment Docker Desktop was started with, never from our argv.
 */
public final class DockerSandbox extends CliSandbox {

    public DockerSandbox(String command, List<String> allowedHosts, Duration callTimeout, ProcessRunner runner) {
        super(List.of(command, "sandbox"), allowedHosts, callTimeout, runner);
    }

    @Override
    public String kind() {
        return "docker-sandbox";
    }

    /** Deny everything, then allow each host: the proxy's own flags, in one call. */
    @Override
    protected List<List<String>> policyArgs(String name, List<String> hosts) {
        List<String> args = new ArrayList<>(List.of("network", "proxy", name, "--policy", "deny"));
        for (String host : hosts) {
            args.add("--allow-host");
            args.add(host);
        }
        return List.of(args);
    }

    /** The workspace is synced at the same absolute path, so the agent can start in it. */
    @Override
    protected List<String> execFlags(Workspace ws) {
        return List.of("-w", ws.root().toAbsolutePath().toString());
    }
}
