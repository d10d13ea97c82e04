package io.sandflow.flow;

import io.sandflow.cli.Sandflow;
import io.sandflow.job.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sandflow.store.JobRecord;
import io.sandflow.store.JobStore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A throw-away working folder for one Sandflow run in a test: settings that use the stand-in agent with no
 * sandbox and short waits, an inbox to drop files into, and readers for what the run left behind.
 */
public class Workdir {

    private static final ObjectMapper JSON = Json.MAPPER;

    public final Path root;
    public final Path state;
    final Path agentLog;
    public final Map<String, String> settings = new LinkedHashMap<>();
    /** Profiles given to every run, e.g. masader. */
    protected final List<String> profiles = new ArrayList<>();

    public Workdir(Path root) throws IOException {
        this.root = root;
        this.state = Files.createDirectories(root.resolve("standin-state"));
        this.agentLog = root.resolve("standin.log");
        Files.createDirectories(inbox());
        settings.put("sandflow.agent.command", executableCopy("standin-agent.sh").toString());
        settings.put("sandflow.sandbox.kind", "none");
        settings.put("sandflow.sandbox.allow-unsandboxed", "true");
        settings.put("sandflow.agent.env.STANDIN_LOG", agentLog.toString());
        settings.put("sandflow.agent.env.STANDIN_STATE_DIR", state.toString());
        settings.put("sandflow.workers", "2");
        settings.put("sandflow.intake.settle", "50ms");
        settings.put("sandflow.intake.poll", "100ms");
        settings.put("sandflow.rate.per-minute", "60000");
        settings.put("sandflow.retry.backoff.initial", "10ms");
        settings.put("sandflow.retry.backoff.max", "50ms");
        settings.put("sandflow.agent.timeout", "20s");
        settings.put("sandflow.once.max-wait", "3s");
        settings.put("sandflow.breaker.open-for", "1s");
        settings.put("sandflow.breaker.min-calls", "50");
        settings.put("sandflow.breaker.window", "50");
    }

    /** Test resources lose their execute bit when copied by Maven: run a copy that has it. */
    Path executableCopy(String script) throws IOException {
        try {
            Path source = Path.of(Workdir.class.getResource("/standin/" + script).toURI());
            Path copy = Files.createDirectories(root.resolve("bin")).resolve(script);
            Files.copy(source, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            copy.toFile().setExecutable(true);
            return copy;
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public Workdir set(String key, String value) {
        settings.put(key, value);
        return this;
    }

    public Path inbox() {
        return root.resolve("inbox");
    }

    public Path outbox() {
        return root.resolve("outbox");
    }

    public Path failed() {
        return root.resolve("failed");
    }

    public Path archive() {
        return root.resolve("archive");
    }

    /** Drops a JSON input asking the stand-in for one behaviour. */
    public Path ask(String name, String behaviour) throws IOException {
        return drop(name, "{\"standin\": \"" + behaviour + "\", \"Name\": \"" + name.replace("\"", "") + "\"}\n");
    }

    public Path drop(String name, String content) throws IOException {
        return drop(name, content.getBytes(StandardCharsets.UTF_8));
    }

    public Path drop(String name, byte[] content) throws IOException {
        Path tmp = root.resolve(".drop.tmp");
        Files.write(tmp, content);
        return Files.move(tmp, inbox().resolve(name));
    }

    /** Runs {@code sandflow run --once} in-process over this folder and returns its exit code. */
    public int runOnce() {
        List<String> args = new ArrayList<>(List.of("-C", root.toString()));
        profiles.forEach(p -> args.addAll(List.of("--profile", p)));
        settings.forEach((k, v) -> args.add("-D" + k + "=" + v));
        args.add("run");
        args.add("--once");
        return Sandflow.execute(args.toArray(String[]::new));
    }

    public List<String> names(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public JsonNode json(Path file) throws IOException {
        return JSON.readTree(Files.readString(file, StandardCharsets.UTF_8));
    }

    public JsonNode report(String inputName) throws IOException {
        return json(failed().resolve(inputName + ".error.json"));
    }

    /** How many times the stand-in agent was started for this input. */
    public long agentCalls(String inputName) throws IOException {
        if (!Files.exists(agentLog)) {
            return 0;
        }
        String marker = " " + inputName + " attempt=";
        try (Stream<String> lines = Files.lines(agentLog, StandardCharsets.UTF_8)) {
            return lines.filter(l -> l.contains(marker)).count();
        }
    }

    String prompt(String inputName, int attempt) throws IOException {
        return Files.readString(state.resolve(inputName + ".attempt-" + attempt + ".prompt"), StandardCharsets.UTF_8);
    }

    public List<JobRecord> ledger(String inputName) {
        try (JobStore store = JobStore.open("jdbc:h2:" + root.resolve("data/sandflow"), null, null)) {
            return store.findByName(inputName);
        }
    }

    /** Pids the stand-in recorded for the children it forked for this input. */
    List<Long> recordedPids(String inputName) throws IOException {
        Path pids = state.resolve(inputName + ".pids");
        if (!Files.exists(pids)) {
            return List.of();
        }
        return Files.readAllLines(pids).stream().map(String::trim).filter(l -> !l.isEmpty()).map(Long::parseLong).toList();
    }

    /** Alive and not a zombie waiting to be reaped (this machine's init reaps only every few seconds). */
    static boolean running(long pid) {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        try {
            String text = Files.readString(stat);
            String afterName = text.substring(text.lastIndexOf(')') + 2);
            return !afterName.startsWith("Z") && !afterName.startsWith("X");
        } catch (IOException | RuntimeException e) {
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }
    }
}
