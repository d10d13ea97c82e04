package io.sandflow.sandbox;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Picks the sandbox named by sandflow.sandbox.kind.
 */
public final class Sandboxes {

    private Sandboxes() {
    }

    /**
     * @param kind            the setting's value
     * @param command         the sandbox CLI, or empty for the kind's usual name
     * @param allowUnsandboxed sandflow.sandbox.allow-unsandboxed
     * @param allowedHosts    the network allowlist
     * @param secretPaths     paths no agent may read
     */
    public static Sandbox create(String kind, String command, boolean allowUnsandboxed, List<String> allowedHosts,
                                 List<Path> secretPaths) {
        String k = kind.trim().toLowerCase(Locale.ROOT);
        return switch (k) {
            case "none" -> {
                if (!allowUnsandboxed) {
                    throw new IllegalArgumentException("sandflow.sandbox.kind=none runs the agent with no sandbox; "
                            + "set sandflow.sandbox.allow-unsandboxed=true to accept that");
                }
                yield new NoSandbox();
            }
            case "srt" -> new SrtSandbox(command.isBlank() ? "srt" : command, allowedHosts, secretPaths);
            default -> throw new IllegalArgumentException("sandflow.sandbox.kind must be one of srt, sbx, "
                    + "docker-sandbox, none; got '" + kind + "'");
        };
    }
}
