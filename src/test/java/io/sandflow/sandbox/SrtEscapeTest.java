package io.sandflow.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.sandflow.agent.AgentCommand;
import io.sandflow.agent.AgentSettings;
import io.sandflow.agent.Envelope;
import io.sandflow.agent.EnvelopeParser;
import io.sandflow.process.ProcessOutcome;
import io.sandflow.process.ProcessRunner;
import io.sandflow.process.ProcessSpec;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.LocalDate;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real thing: an agent that tries every row of the seed's table, run through srt exactly as Sandflow runs
 * it. Skipped only on a developer machine without srt; in CI (CI=true) a missing srt is a failure.
 * What it observed is written to target/srt-escape-report.txt for docs/SECURITY.md.
 */
@Tag("process")
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SrtEscapeTest {

    private static final String KEY = "-----BEGIN FAKE PRIVATE KEY----- sandflow-test";
    private static final String OTHER = "worker two's private data";
    private static final String CONFIG = "sandflow.store.url=jdbc:postgresql://db/sandflow?password=not-for-agents";

    @TempDir
    Path dir;

    private Process victim;

    @BeforeEach
    void srtMustBeThere() {
        Optional<Path> srt = onPath("srt");
        if ("true".equals(System.getenv("CI"))) {
            assertThat(srt).as("srt must be installed in CI (npm i -g @anthropic-ai/sandbox-runtime)").isPresent();
            for (String dep : List.of("bwrap", "socat", "rg")) {
                assertThat(onPath(dep)).as("%s must be installed in CI", dep).isPresent();
            }
        }
        assumeThat(srt).as("srt is not installed here: skipping the real sandbox test "
                + "(install @anthropic-ai/sandbox-runtime, bubblewrap, socat and ripgrep to run it)").isPresent();
    }

    @AfterEach
    void stopVictim() {
        if (victim != null) {
            victim.destroyForcibly();
        }
    }

    @Test
    void everyRowOfTheSeedsTableIsBlockedAndTheJobsResultStillArrives() throws Exception {
        Path home = Files.createDirectories(dir.resolve("real-home/.ssh")).getParent();
        Files.writeString(home.resolve(".ssh/id_rsa"), KEY);
        Path docs = Files.createDirectories(dir.resolve("documents"));
        Path canary = Files.writeString(docs.resolve("thesis.txt"), "the user's only copy");
        Path config = Files.writeString(dir.resolve("application.properties"), CONFIG);
        Path store = Files.createDirectories(dir.resolve("data"));
        WorkerPool pool = new WorkerPool(dir.resolve("work"), List.of("w1", "w2"));
        Workspace ws = pool.all().get(0);
        Path otherCanary = Files.writeString(pool.all().get(1).input().resolve("canary.txt"), OTHER);
        byte[] hostsBefore = sha256(Path.of("/etc/hosts"));
        victim = new ProcessBuilder("sleep", "120").start();
        String token = UUID.randomUUID().toString().replace("-", "");
        Path artist = dir.resolve("escape-artist.sh");
        try (InputStream in = getClass().getResourceAsStream("/sandbox/escape-artist.sh")) {
            Files.copy(in, artist, StandardCopyOption.REPLACE_EXISTING);
        }
        Files.setPosixFilePermissions(artist, PosixFilePermissions.fromString("r-xr-xr-x"));

        SrtSandbox sandbox = new SrtSandbox("srt", List.of("api.anthropic.com"), List.of(config, store), home);
        assertThat(pool.prepare(sandbox)).isEmpty();
        Path output = ws.out().resolve("input.result.json");
        Map<String, String> env = new LinkedHashMap<>(AgentCommand.environment(
                AgentSettings.fromProperties(io.sandflow.config.Settings.of(ws.root(), Map.of()).values()), ws.home(), ws.configDir(), ws.tmp()));
        env.put("SANDFLOW_OUTPUT", output.toString());
        env.put("ESCAPE_DOCS", docs.toString());
        env.put("ESCAPE_SSH_KEY", home.resolve(".ssh/id_rsa").toString());
        env.put("ESCAPE_OTHER", otherCanary.toString());
        env.put("ESCAPE_CONFIG", config.toString());
        env.put("ESCAPE_VICTIM_PID", Long.toString(victim.pid()));
        env.put("ESCAPE_TOKEN", token);
        List<String> argv = sandbox.wrap(List.of(artist.toString()), ws, env);

        ProcessOutcome outcome = new ProcessRunner().run(new ProcessSpec(argv, env, ws.root(),
                "assess this".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(60), 1 << 20, 8192));

        Map<String, String[]> rows = rows(output.resolveSibling(output.getFileName() + ".report"));
        writeObservations(rows, outcome);
        // The job's own answer came back, through stdout and through its workspace.
        assertThat(outcome.exitCode()).as(outcome.stderrTail()).isZero();
        Envelope envelope = EnvelopeParser.parse(outcome.stdoutText());
        assertThat(envelope.hasStructuredOutput()).isTrue();
        assertThat(Files.readString(output)).contains("escape attempts: 9 blocked, 0 escaped");
        assertThat(sandbox.failureOf(ws, outcome)).isEmpty();
        // Each attempt failed as seen from inside...
        for (String row : List.of("rm-documents", "install-system", "fetch-unlisted", "raw-socket", "read-ssh-key",
                "kill-host-process", "write-etc-hosts", "read-other-worker", "read-config")) {
            assertThat(rows.get(row)).as(row).isNotNull();
            assertThat(rows.get(row)[0]).as(row + ": " + rows.get(row)[1]).isEqualTo("blocked");
        }
        assertThat(rows.get("write-own-tmp")[0]).as("the agent's own temp folder is writable").isEqualTo("allowed");
        // ...and from outside.
        assertThat(canary).hasContent("the user's only copy");
        assertThat(sha256(Path.of("/etc/hosts"))).isEqualTo(hostsBefore);
        assertThat(Path.of("/usr/local/bin/sandflow-escape-" + token)).doesNotExist();
        assertThat(victim.isAlive()).isTrue();
        assertThat(outcome.stdoutText() + Files.readString(output)).doesNotContain(KEY).doesNotContain(OTHER)
                .doesNotContain("not-for-agents");
        assertThat(ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains(token))
                .map(ProcessHandle::pid).toList()).as("processes left behind").isEmpty();
        // srt itself took the detached child down; the runner's own clean-up had nothing left to kill.
        assertThat(outcome.leftoverProcessesKilled()).isZero();
    }

    @Test
    void eachWorkerMayWriteOnlyItsOwnWorkspace() throws Exception {
        WorkerPool pool = new WorkerPool(dir.resolve("work"), List.of("w1", "w2"));
        SrtSandbox sandbox = new SrtSandbox("srt", List.of("api.anthropic.com"), List.of(), dir.resolve("home"));
        pool.prepare(sandbox);
        Workspace one = pool.all().get(0);
        Path mine = one.out().resolve("mine.txt");
        Path theirs = pool.all().get(1).out().resolve("theirs.txt");

        ProcessOutcome outcome = new ProcessRunner().run(new ProcessSpec(sandbox.wrap(List.of("/bin/sh", "-c",
                "echo ok > \"$1\"; echo no > \"$2\"", "sh", mine.toString(), theirs.toString()), one, Map.of()),
                Map.of(), one.root(), null, Duration.ofSeconds(30), 4096, 4096));

        assertThat(outcome.timedOut()).isFalse();
        assertThat(mine).hasContent("ok");
        assertThat(theirs).doesNotExist();
    }

    private static Map<String, String[]> rows(Path report) throws IOException {
        Map<String, String[]> rows = new LinkedHashMap<>();
        for (String line : Files.readAllLines(report)) {
            String[] f = line.split("\t", 3);
            rows.put(f[0], new String[] {f[1], f.length > 2 ? f[2] : ""});
        }
        return rows;
    }

    /** Kept for docs/SECURITY.md: what this machine's srt did with each attempt. */
    private void writeObservations(Map<String, String[]> rows, ProcessOutcome outcome) throws IOException {
        StringBuilder text = new StringBuilder("# srt escape test, " + LocalDate.now() + ", srt at "
                + onPath("srt").map(Path::toString).orElse("?") + "\n");
        rows.forEach((row, r) -> text.append(row).append('\t').append(r[0]).append('\t')
                .append(r[1].replace(dir.toString(), "$TMP")).append('\n'));
        text.append("exit\t").append(outcome.exitCode()).append("\telapsed ").append(outcome.elapsed().toMillis())
                .append(" ms, leftover processes killed by the runner: ").append(outcome.leftoverProcessesKilled())
                .append('\n');
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target/srt-escape-report.txt"), text);
    }

    private static byte[] sha256(Path file) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
    }

    private static Optional<Path> onPath(String program) {
        for (String entry : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path candidate = Path.of(entry.isEmpty() ? "." : entry, program);
            if (Files.isExecutable(candidate) && !Files.isDirectory(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }
}
