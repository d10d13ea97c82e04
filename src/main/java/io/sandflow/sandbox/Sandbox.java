package io.sandflow.sandbox;

import io.sandflow.process.ProcessOutcome;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where an agent runs. A sandbox turns the agent's argv into the argv that runs it inside the sandbox,
 * for one worker's workspace.
 */
public interface Sandbox {

    /** The value of sandflow.sandbox.kind that selects this sandbox. */
    String kind();

    /** True when the agent really runs isolated; false only for kind none. */
    boolean isolated();

    /**
     * Whether the agent program runs on this machine (directly, or under srt), so that it must be found here; a VM
     * sandbox (sbx, docker-sandbox) carries its own.
     */
    default boolean agentRunsOnHost() {
        return true;
    }

    /** The sandbox's own program on this machine, or empty when there is none (kind none). */
    default Optional<String> program() {
        return Optional.empty();
    }

    /**
     * Makes sure every worker's sandbox exists and carries the network policy; time-boxed, called once at start.
     *
     * @return the workspaces whose sandbox cannot be used, each with one sentence saying why; empty when all are
     *         ready
     * @throws SandboxException when nothing can be prepared at all (the sandbox CLI itself fails)
     */
    default Map<Workspace, String> prepare(List<Workspace> workspaces) {
        return Map.of();
    }

    /**
     * @param agentArgv the agent command and its arguments
     * @param ws        the leased workspace
     * @param env       the agent's extra environment; a sandbox that cannot pass the process environment through
     *                  turns the non-secret entries into its own flags
     * @return the argv to execute
     */
    List<String> wrap(List<String> agentArgv, Workspace ws, Map<String, String> env);

    /**
     * Whether a finished run failed because of the sandbox rather than the agent. The agent contract says the
     * agent always prints an envelope, even when it fails, so a non-zero exit with nothing on stdout means the
     * wrapper (the sandbox CLI) gave up before the agent could answer.
     *
     * @return one sentence naming the sandbox and the cause, or empty when the sandbox did its part
     */
    default Optional<String> failureOf(Workspace ws, ProcessOutcome outcome) {
        return Optional.empty();
    }

    /** What {@link #failureOf} looks for: a run that ended on its own, non-zero, without a byte on stdout. */
    static boolean wrapperGaveUp(ProcessOutcome outcome) {
        return !outcome.timedOut() && outcome.exitCode() != 0 && outcome.stdoutTotalBytes() == 0;
    }
}
