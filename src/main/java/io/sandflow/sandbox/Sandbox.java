package io.sandflow.sandbox;

import java.util.List;
import java.util.Map;

/**
 * Where an agent runs. A sandbox turns the agent's argv into the argv that runs it inside the sandbox,
 * for one worker's workspace.
 */
public interface Sandbox {

    /** The value of sandflow.sandbox.kind that selects this sandbox. */
    String kind();

    /** True when the agent really runs isolated; false only for kind none. */
    boolean isolated();

    /** Makes sure every worker's sandbox exists and carries the network policy; time-boxed, called once at start. */
    default void prepare(List<Workspace> workspaces) {
    }

    /**
     * @param agentArgv the agent command and its arguments
     * @param ws        the leased workspace
     * @param env       the agent's extra environment; a sandbox that cannot pass the process environment through
     *                  turns the entries into its own flags
     * @return the argv to execute
     */
    List<String> wrap(List<String> agentArgv, Workspace ws, Map<String, String> env);
}
