package io.sandflow.sandbox;

import io.sandflow.process.ProcessRunner;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * Picks the sandbox named by sandflow.sandbox.kind.
 */
public final class Sandboxes {

    /** sandflow.sandbox.call-timeout's default, for callers that do not pass one. */
    public static final Duration DEFAULT_CALL_TIMEOUT = Duration.ofMinutes(2);

    private Sandboxes() {
    }

    /** As {@link #create(String, String, boolean, List, List, Duration, ProcessRunner)} with the default timeout. */
    public static Sandbox create(String kind, String command, boolean allowUnsandboxed, List<String> allowedHosts,
                                 List<Path> secretPaths) {
        return create(kind, command, allowUnsandboxed, allowedHosts, secretPaths, DEFAULT_CALL_TIMEOUT,
                new ProcessRunner());
    }

    /**
     * @param kind             the setting's value
     * @param command          the sandbox CLI, or empty for the kind's usual name
     * @param allowUnsandboxed sandflow.sandbox.allow-unsandboxed
     * @param allowedHosts     the network allowlist
     * @param secretPaths      paths no agent may read
     * @param callTimeout      sandflow.sandbox.call-timeout: the limit for every sandbox CLI call
     * @param runner           runs those calls
     */
    public static Sandbox create(String kind, String command, boolean allowUnsandboxed, List<String> allowedHosts,
                                 List<Path> secretPaths, Duration callTimeout, ProcessRunner runner) {
        String k = kind.trim().toLowerCase(Locale.ROOT);
        return switch (k) {
            case "none" -> {
                if (!allowUnsandboxed) {
                    throw new IllegalArgumentException("sandflow.sandbox.kind=none runs the agent with no sandbox; "
                            + "set sandflow.sandbox.allow-unsandboxed=true to accept that");
                }
                yield new NoSandbox();
            }
            case "srt" -> new SrtSandbox(orDefault(command, k), allowedHosts, secretPaths);
            case "sbx" -> new SbxSandbox(orDefault(command, k), allowedHosts, callTimeout, runner);
            case "docker-sandbox" -> new DockerSandbox(orDefault(command, k), allowedHosts, callTimeout, runner);
            default -> throw new IllegalArgumentException("sandflow.sandbox.kind must be one of srt, sbx, "
                    + "docker-sandbox, none; got '" + kind + "'");
        };
    }

    /** The program a kind runs when sandflow.sandbox.command is empty. */
    public static String defaultCommand(String kind) {
        return switch (kind.trim().toLowerCase(Locale.ROOT)) {
            case "srt" -> "srt";
            case "sbx" -> "sbx";
            case "docker-sandbox" -> "docker";
            default -> "";
        };
    }

    private static String orDefault(String command, String kind) {
        return command == null || command.isBlank() ? defaultCommand(kind) : command;
    }
}
