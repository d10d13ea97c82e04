package io.sandflow.flow;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Runs a child process under a user that file modes bind: root writes through any mode, so a test about a folder
 * that cannot be written needs another user. As root, a system user is created once and the child runs as it
 * through setpriv, keeping only the right to read and search every folder (so it can read the Maven class path
 * under /root), not to write. As another user, the child simply runs as this one.
 */
final class NonRootUser {

    static final String NAME = "sandflow-test";

    private NonRootUser() {
    }

    /** The command prefix that runs a child as a non-root user, or why this machine cannot. */
    record Wrapper(List<String> prefix, String unavailable) {
        boolean available() {
            return unavailable == null;
        }
    }

    static Wrapper wrapper() {
        try {
            if (uid() != 0) {
                return new Wrapper(List.of(), null);
            }
            if (run(List.of("id", "-u", NAME)) != 0 && run(List.of("useradd", "--system", "--no-create-home",
                    "--shell", "/usr/sbin/nologin", NAME)) != 0) {
                return new Wrapper(null, "cannot create the user " + NAME + " (useradd failed)");
            }
            List<String> prefix = List.of("setpriv", "--reuid=" + NAME, "--regid=" + NAME, "--clear-groups",
                    "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search");
            List<String> probe = new ArrayList<>(prefix);
            // As that user, / (root's, mode 755) must not be writable, or the test would prove nothing
            probe.addAll(List.of("sh", "-c", "test ! -w / && test -r /root"));
            if (run(probe) != 0) {
                return new Wrapper(null, "setpriv cannot run a child as " + NAME
                        + " with only the read-and-search capability");
            }
            return new Wrapper(prefix, null);
        } catch (IOException | InterruptedException e) {
            return new Wrapper(null, "cannot run a child as another user: " + e);
        }
    }

    /**
     * Gives the test user the folder and everything in it, and lets it through the folders above (a test's temp
     * folder is root's, mode 700; access(2), which Files.isWritable uses, ignores the capability to search it).
     * Nothing to do when this JVM is not root.
     */
    static void own(Path dir) throws IOException, InterruptedException {
        if (uid() != 0) {
            return;
        }
        if (run(List.of("chown", "-R", NAME + ":" + NAME, dir.toString())) != 0) {
            throw new IOException("cannot chown " + dir + " to " + NAME);
        }
        for (Path p = dir.toAbsolutePath().getParent(); p != null && !p.toString().equals("/tmp"); p = p.getParent()) {
            java.util.Set<java.nio.file.attribute.PosixFilePermission> mode = Files.getPosixFilePermissions(p);
            mode.add(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE);
            Files.setPosixFilePermissions(p, mode);
            if (p.getParent() != null && p.getParent().toString().equals("/tmp")) {
                break;
            }
        }
    }

    static int uid() throws IOException {
        return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }

    private static int run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(
                ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }

    static Optional<String> skipReason(Wrapper w) {
        return Optional.ofNullable(w.unavailable());
    }
}
