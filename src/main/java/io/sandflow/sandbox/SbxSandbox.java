package io.sandflow.sandbox;

import io.sandflow.process.ProcessRunner;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Docker Sandboxes through the current {@code sbx} CLI: one microVM per worker with the worker's folder synced at
 * the same absolute path, network denied by default and opened per sandbox for the allowlist. The API key lives in
 * sbx's own secret store ({@code sbx secret set anthropic}), whose proxy injects it, so it never crosses our argv.
 */
public final class SbxSandbox extends CliSandbox {

    public SbxSandbox(String command, List<String> allowedHosts, Duration callTimeout, ProcessRunner runner) {
        super(List.of(command), allowedHosts, callTimeout, runner);
    }

    @Override
    public String kind() {
        return "sbx";
    }

    /** One call for all hosts; sbx denies by default, so allowing is all the policy needs. */
    @Override
    protected List<List<String>> policyArgs(String name, List<String> hosts) {
        List<String> args = new ArrayList<>(List.of("policy", "allow", "network", "--sandbox", name));
        args.addAll(hosts);
        return List.of(args);
    }

    /** sbx syncs the workspace at the same path and starts the agent there, so no working-folder flag is needed. */
    @Override
    protected List<String> execFlags(Workspace ws) {
        return List.of();
    }

    /** {@code sbx policy check network HOST}: exit 0 allowed, 1 denied. */
    public List<String> policyCheckArgs(String name, String host) {
        return List.of("policy", "check", "network", "--sandbox", name, host);
    }
}
