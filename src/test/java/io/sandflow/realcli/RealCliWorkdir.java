package io.sandflow.realcli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sandflow.app.Sandflow;
import io.sandflow.process.ProcessRunner;
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
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A throw-away working folder in which Sandflow runs the real {@code claude} CLI inside a real {@code srt} sandbox,
 * with the Masader profile, against a {@link ScriptedMessagesApi} reached exactly as a deployment reaches the real
 * API: through srt's proxy and its network allowlist.
 */
final class RealCliWorkdir {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The project's own Masader examples: real-shaped metadata, awkward names included. */
    static final Path EXAMPLES = Path.of("examples", "masader");

    final Path root;
    final Map<String, String> settings = new LinkedHashMap<>();

    RealCliWorkdir(Path root, ScriptedMessagesApi api) throws IOException {
        this.root = root;
        Files.createDirectories(inbox());
        settings.put("sandflow.sandbox.kind", "srt");
        settings.put("sandflow.agent.command", "claude");
        settings.put("sandflow.agent.base-url", api.baseUrl());
        // The only way out of srt's network namespace is its proxy, which lets through what the allowlist names:
        // here the stand-in's address, in a deployment api.anthropic.com.
        settings.put("sandflow.sandbox.network.allow", "127.0.0.1:" + api.port());
        // Tests only: a real user exports ANTHROPIC_API_KEY; the test JVM has none to pass through.
        settings.put("sandflow.agent.env.ANTHROPIC_API_KEY", "test-key");
        // Each CLI-level retry waits seconds; let Sandflow's own (10 ms) backoff do the retrying.
        settings.put("sandflow.agent.cli-retries", "0");
        settings.put("sandflow.workers", "2");
        settings.put("sandflow.intake.settle", "50ms");
        settings.put("sandflow.intake.poll", "100ms");
        settings.put("sandflow.rate.per-minute", "60000");
        settings.put("sandflow.retry.backoff.initial", "10ms");
        settings.put("sandflow.retry.backoff.max", "50ms");
        settings.put("sandflow.agent.timeout", "90s");
        settings.put("sandflow.once.max-wait", "3s");
        settings.put("sandflow.breaker.open-for", "30s");
        settings.put("sandflow.breaker.min-calls", "50");
        settings.put("sandflow.breaker.window", "50");
    }

    /**
     * In CI the suite must run, so a missing tool is a failure there; on a developer's machine without the CLI or
     * srt the tests are skipped, saying what to install.
     */
    static void requireTools() {
        List<String> missing = new ArrayList<>();
        for (String tool : List.of("claude", "srt")) {
            if (ProcessRunner.locate(tool).isEmpty()) {
                missing.add(tool);
            }
        }
        String message = "the real-CLI tests need " + String.join(" and ", missing)
                + " on PATH: run bin/install-test-deps";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            assertThat(missing).as(message).isEmpty();
        }
        assumeTrue(missing.isEmpty(), message);
    }

    RealCliWorkdir set(String key, String value) {
        settings.put(key, value);
        return this;
    }

    Path inbox() {
        return root.resolve("inbox");
    }

    Path outbox() {
        return root.resolve("outbox");
    }

    Path failed() {
        return root.resolve("failed");
    }

    /** Copies one of the project's Masader examples into the inbox (whole, then moved in, as a user would). */
    Path dropExample(String name) throws IOException {
        Path tmp = root.resolve(".drop.tmp");
        Files.copy(EXAMPLES.resolve(name), tmp);
        return Files.move(tmp, inbox().resolve(name));
    }

    static JsonNode example(String name) throws IOException {
        return JSON.readTree(Files.readString(EXAMPLES.resolve(name), StandardCharsets.UTF_8));
    }

    /** Runs {@code sandflow --profile masader run --once} in-process over this folder; returns its exit code. */
    int runOnce() {
        List<String> args = new ArrayList<>(List.of("-C", root.toString(), "--profile", "masader"));
        settings.forEach((k, v) -> args.add("-D" + k + "=" + v));
        args.add("run");
        args.add("--once");
        return Sandflow.execute(args.toArray(String[]::new));
    }

    List<String> names(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    JsonNode json(Path file) throws IOException {
        return JSON.readTree(Files.readString(file, StandardCharsets.UTF_8));
    }

    JsonNode report(String inputName) throws IOException {
        return json(failed().resolve(inputName + ".error.json"));
    }

    List<JobRecord> ledger(String inputName) {
        try (JobStore store = JobStore.open("jdbc:h2:" + root.resolve("data/sandflow"), null, null)) {
            return store.findByName(inputName);
        }
    }

    /** The worker's CLI config dir, as Sandflow lays it out ({@code work/worker-N/home/.claude}). */
    Path configDir(int worker) {
        return root.resolve("work").resolve("worker-" + worker).resolve("home").resolve(".claude");
    }

    /**
     * The input's path as the prompt states it (inside the worker's workspace): what a model reads before it calls
     * Read. Found as the text from the first '/' of the prompt line that names {@code input/NAME}.
     */
    static String inputPathIn(ScriptedMessagesApi.Request request, String inputName) {
        for (String line : request.userText().split("\n")) {
            int at = line.indexOf("/input/" + inputName);
            if (at >= 0) {
                int start = line.indexOf('/');
                return line.substring(start, at + "/input/".length() + inputName.length());
            }
        }
        throw new AssertionError("the prompt names no input/" + inputName + ":\n" + request.userText());
    }
}
