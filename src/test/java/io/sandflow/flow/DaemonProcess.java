package io.sandflow.flow;

import io.sandflow.cli.Sandflow;
import io.sandflow.store.JobRecord;
import io.sandflow.store.JobStore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Sandflow as a real child JVM over a {@link Workdir}, for tests that must signal it (SIGKILL, SIGTERM):
 * {@code java -cp <the test class path> io.sandflow.cli.Sandflow -C DIR -Dk=v... run [--once]}. The child's console goes to {@code daemon.log} in the
 * working folder, appended across restarts, and can be printed into the test's output.
 */
public final class DaemonProcess {

    private DaemonProcess() {
    }

    /** Starts the daemon with the work folder's settings; {@code command} is e.g. "run" or "run", "--once". */
    static Process start(Workdir work, String... command) throws IOException {
        return start(work, List.of(), command);
    }

    /**
     * As {@link #start(Workdir, String...)}, with the java command run through {@code wrapper} (e.g. setpriv
     * switching to another user); empty runs it directly.
     */
    static Process start(Workdir work, List<String> wrapper, String... command) throws IOException {
        List<String> cmd = new ArrayList<>(wrapper);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Dfile.encoding=UTF-8");
        // quicker start-up on a small CI machine; the daemon does little CPU work of its own
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-cp");
        cmd.add(classPath());
        cmd.add(Sandflow.class.getName());
        cmd.add("-C");
        cmd.add(work.root.toString());
        work.settings.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.addAll(List.of(command));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.root.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log(work).toFile()));
        pb.environment().put("LANG", "C.UTF-8");
        pb.environment().put("LC_ALL", "C.UTF-8");
        Files.writeString(log(work), "=== " + String.join(" ", command) + "\n", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        return pb.start();
    }

    /**
     * A node of a cluster: its own working folder, the given settings and environment; its console goes to
     * target/daemon-logs so that a failed run's logs survive the test's temporary folder.
     */
    static Process start(Path workDir, Map<String, String> settings, Map<String, String> env, String... command)
            throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dfile.encoding=UTF-8", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", classPath(),
                Sandflow.class.getName(), "-C", workDir.toString()));
        settings.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.addAll(List.of(command));
        Path logs = Files.createDirectories(Path.of("target", "daemon-logs"));
        Path log = logs.resolve(workDir.getFileName() + "-" + System.nanoTime() + ".log").toAbsolutePath();
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("LANG", "C.UTF-8");
        pb.environment().put("LC_ALL", "C.UTF-8");
        pb.environment().putAll(env);
        return pb.start();
    }

    /**
     * Surefire runs tests from a manifest-only jar; the child gets the real class path instead, without empty
     * entries: an empty entry means the current folder, which would put a working folder's routes/ on it twice.
     */
    public static String classPath() {
        String path = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        return java.util.Arrays.stream(path.split(java.io.File.pathSeparator)).filter(e -> !e.isBlank())
                .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
    }

    /** SIGTERM, then up to {@code wait} for a clean exit; SIGKILL after that. Returns the exit code, -1 if killed. */
    static int terminate(Process process, java.time.Duration wait) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(wait.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
            process.destroyForcibly().waitFor();
            return -1;
        }
        return process.exitValue();
    }

    static Path log(Workdir work) {
        return work.root.resolve("daemon.log");
    }

    /** Copies the children's console into this test's output (surefire's *-output.txt). */
    static void printLog(Workdir work) {
        try {
            if (Files.exists(log(work))) {
                System.out.println("----- daemon.log of " + work.root + " -----");
                System.out.println(Files.readString(log(work), StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            System.out.println("cannot read daemon.log: " + e);
        }
    }

    /** Every stand-in call: job name to the number of calls, from STANDIN_LOG. */
    static Map<String, Integer> callsPerJob(Workdir work) {
        Map<String, Integer> calls = new TreeMap<>();
        for (String[] call : calls(work)) {
            calls.merge(call[2], 1, Integer::sum);
        }
        return calls;
    }

    /** The stand-in log's lines split as {epoch-ms, behaviour, job name, attempt=n, pid=p}; names have no spaces. */
    static List<String[]> calls(Workdir work) {
        if (!Files.exists(work.agentLog)) {
            return List.of();
        }
        try (Stream<String> lines = Files.lines(work.agentLog, StandardCharsets.UTF_8)) {
            return lines.filter(l -> !l.isBlank()).map(l -> l.split(" ")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static long callCount(Workdir work) {
        return calls(work).size();
    }

    /** The pids the stand-in logged for its calls (the agent processes themselves). */
    static List<Long> agentPids(Workdir work) {
        return calls(work).stream().map(c -> Long.parseLong(c[4].substring("pid=".length()))).toList();
    }

    /** Stand-in processes still alive, by their command line naming this work folder's copy of the script. */
    static List<ProcessHandle> liveStandins(Workdir work) {
        String script = work.root.resolve("bin").toString();
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains(script)).orElse(false))
                .filter(p -> Workdir.running(p.pid()))
                .toList();
    }

    /** The ledger rows per input name, read once the daemon that had the store open has exited. */
    static Map<String, List<JobRecord>> ledger(Workdir work, List<String> names) {
        Map<String, List<JobRecord>> rows = new LinkedHashMap<>();
        try (JobStore store = JobStore.open("jdbc:h2:" + work.root.resolve("data/sandflow"), null, null)) {
            for (String name : names) {
                rows.put(name, store.findByName(name));
            }
        }
        return rows;
    }
}
