package io.sandflow.realcli;

import io.sandflow.job.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sandflow.flow.Workdir;
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
final class RealCliWorkdir extends Workdir {

    private static final ObjectMapper JSON = Json.MAPPER;
    /** The project's own Masader examples: real-shaped metadata, awkward names included. */
    static final Path EXAMPLES = Path.of("examples", "masader");

    RealCliWorkdir(Path root, ScriptedMessagesApi api) throws IOException {
        super(root);
        // The stand-in's short waits and folders stay; the agent, the sandbox and the profile are the real ones
        profiles.add("masader");
        set("sandflow.sandbox.kind", "srt");
        set("sandflow.agent.command", "claude");
        set("sandflow.agent.base-url", api.baseUrl());
        // The only way out of srt's network namespace is its proxy, which lets through what the allowlist names:
        // here the stand-in's address, in a deployment api.anthropic.com.
        set("sandflow.sandbox.network.allow", "127.0.0.1:" + api.port());
        // Tests only: a real user exports ANTHROPIC_API_KEY; the test JVM has none to pass through.
        set("sandflow.agent.env.ANTHROPIC_API_KEY", "test-key");
        // Each CLI-level retry waits seconds; let Sandflow's own (10 ms) backoff do the retrying.
        set("sandflow.agent.cli-retries", "0");
        set("sandflow.agent.timeout", "90s");
        set("sandflow.breaker.open-for", "30s");
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





    /** Copies one of the project's Masader examples into the inbox (whole, then moved in, as a user would). */
    Path dropExample(String name) throws IOException {
        Path tmp = root.resolve(".drop.tmp");
        Files.copy(EXAMPLES.resolve(name), tmp);
        return Files.move(tmp, inbox().resolve(name));
    }

    static JsonNode example(String name) throws IOException {
        return JSON.readTree(Files.readString(EXAMPLES.resolve(name), StandardCharsets.UTF_8));
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
