package io.sandflow.sandbox;

import java.util.List;
import java.util.Map;

/**
 * Runs the agent directly on the host. Only allowed with sandflow.sandbox.allow-unsandboxed=true.
 */
public final class NoSandbox implements Sandbox {

    @Override
    public String kind() {
        return "none";
    }

    @Override
    public boolean isolated() {
        return false;
    }

    @Override
    public List<String> wrap(List<String> agentArgv, Workspace ws, Map<String, String> env) {
        return agentArgv;
    }
}
