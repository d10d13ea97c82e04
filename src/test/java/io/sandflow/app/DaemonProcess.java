package io.sandflow.app;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Sandflow started as a real child JVM, as a user starts it, so that tests can kill it with SIGKILL or SIGTERM.
 * Its output goes to a log file under target/daemon-logs.
 */
final class DaemonProcess implements AutoCloseable {

    final Process process;
    final Path log;

    private DaemonProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /**
     * @param workDir  the node's working folder (-C)
     * @param settings -D settings
     * @param env      extra environment
     * @param command  e.g. "run" or "run", "--once"
     */
    static DaemonProcess start(Path workDir, Map<String, String> settings, Map<String, String> env, String... command)
            throws IOException {
        List<String> argv = new ArrayList<>(List.of(javaBinary(), "-Dfile.encoding=UTF-8", "-Dsun.jnu.encoding=UTF-8",
                "-Xmx256m", "-cp", classPath(), Sandflow.class.getName(),
                "-C", workDir.toString()));
        settings.forEach((k, v) -> argv.add("-D" + k + "=" + v));
        argv.addAll(List.of(command));
        // Kept under target/ so that a failed run's logs survive the test's temporary folder
        Path logs = java.nio.file.Files.createDirectories(Path.of("target", "daemon-logs"));
        Path log = logs.resolve(workDir.getFileName() + "-" + System.nanoTime() + ".log").toAbsolutePath();
        ProcessBuilder builder = new ProcessBuilder(argv).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().put("LANG", "C.UTF-8");
        builder.environment().put("LC_ALL", "C.UTF-8");
        builder.environment().putAll(env);
        return new DaemonProcess(builder.start(), log);
    }

    /**
     * Surefire runs tests from a manifest-only jar; the child gets the real class path instead, since resource
     * scanning through that jar finds the route files twice.
     */
    static String classPath() {
        String path = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        // An empty entry means the current folder, which would put a working folder's routes/ on the class path
        return java.util.Arrays.stream(path.split(java.io.File.pathSeparator)).filter(e -> !e.isBlank())
                .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** SIGKILL: no shutdown hook, no clean-up, like a crash or a pulled plug. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM: the daemon's graceful shutdown. */
    int terminate(Duration wait) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(wait.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
            return -1;
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }
}
