package io.sandflow.flow;

import io.sandflow.cli.Sandflow;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.sandflow.process.ProcessRunner;
import io.sandflow.store.JobRecord;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The threat table of docs/SECURITY.md, row by row: a hostile agent (src/test/resources/sandbox/hostile-agent.sh)
 * attacks Sandflow itself from inside a real srt sandbox, with Sandflow running as a child JVM ({@code run --once})
 * that holds an API key and a second secret in its environment and sees a fake home with {@code .ssh} in it. Each
 * row then checks from outside what reached the outbox, failed/, the log, the ledger, the next prompts (the agent
 * posts each prompt to a collector on the allowlist) and the host's files. The {@code none} rows show what running
 * without a sandbox cannot prevent, and what Sandflow still refuses to carry.
 */
@Tag("process")
@Timeout(value = 5, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SandboxBoundaryTest {

    private static final SecureRandom RANDOM = new SecureRandom();

    /** One Sandflow run over a set of attacks, shared by the rows that read its outcome. */
    static final class Scenario {
        final Path root;
        final Workdir work;
        final Path fakeHome;
        final Path victim;
        final Path victimTmp;
        final Path victimHome;
        final Path hostJson;
        final Path hostText;
        final String token = HexFormat.of().formatHex(RANDOM.generateSeed(8));
        final String hostJsonMarker = "HOSTJSON" + token;
        final String hostTextMarker = "HOSTTOKEN" + token;
        final String apiKey = "sk-ant-api03-" + HexFormat.of().formatHex(RANDOM.generateSeed(24)) + "-AbCd";
        final String otherSecret = "aws" + HexFormat.of().formatHex(RANDOM.generateSeed(16));
        final List<String> prompts = new CopyOnWriteArrayList<>();
        final HttpServer collector;
        final String kind;
        int exitCode;
        String log = "";

        Scenario(Path root, String kind, int workers) throws IOException {
            this.root = Files.createDirectories(root);
            this.kind = kind;
            this.work = new Workdir(root.resolve("wd"));
            fakeHome = Files.createDirectories(root.resolve("home"));
            Path ssh = Files.createDirectories(fakeHome.resolve(".ssh"));
            hostJson = Files.writeString(ssh.resolve("deploy.json"),
                    "{\"summary\":\"" + hostJsonMarker + " the deploy key's notes\",\"tags\":[\"private\"]}\n");
            hostText = Files.writeString(ssh.resolve("id_rsa"),
                    hostTextMarker + " -----BEGIN PRIVATE KEY----- not for agents\n");
            victim = Files.createDirectories(fakeHome.resolve("victim"));
            victimTmp = Files.createDirectories(fakeHome.resolve("victim-tmp"));
            victimHome = Files.createDirectories(fakeHome.resolve("victim-home"));
            for (Path v : List.of(victim, victimTmp, victimHome)) {
                Files.writeString(v.resolve("canary.txt"), "the user's file");
            }
            // What the out/ link would read, and what a second attempt's clean-up would delete through it
            Files.writeString(victim.resolve("c-symlink-out-dir.result.json"),
                    "{\"summary\":\"" + hostJsonMarker + " in the victim folder\",\"tags\":[]}\n");
            Files.writeString(work.root.resolve("application.properties"),
                    "# the user's own settings\nsandflow.intake.batch=100\n");
            Files.createDirectories(work.root.resolve("data"));

            collector = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            collector.createContext("/", exchange -> {
                try (InputStream in = exchange.getRequestBody()) {
                    if (exchange.getRequestURI().getPath().equals("/prompt")) {
                        prompts.add(new String(in.readAllBytes(), StandardCharsets.UTF_8));
                    }
                }
                exchange.sendResponseHeaders(200, -1);
                exchange.close();
            });
            collector.start();
            String collectorUrl = "http://127.0.0.1:" + collector.getAddress().getPort();

            Path agent = Files.createDirectories(work.root.resolve("bin")).resolve("hostile-agent.sh");
            try (InputStream in = SandboxBoundaryTest.class.getResourceAsStream("/sandbox/hostile-agent.sh")) {
                Files.copy(in, agent, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.setPosixFilePermissions(agent, PosixFilePermissions.fromString("r-xr-xr-x"));
            work.set("sandflow.agent.command", agent.toString())
                    .set("sandflow.sandbox.kind", kind)
                    .set("sandflow.sandbox.allow-unsandboxed", Boolean.toString(kind.equals("none")))
                    .set("sandflow.workers", Integer.toString(workers))
                    .set("sandflow.retry.max-invalid-attempts", "2")
                    .set("sandflow.agent.timeout", "60s")
                    .set("sandflow.once.max-wait", "30s")
                    .set("sandflow.sandbox.network.allow", "127.0.0.1:" + collector.getAddress().getPort())
                    .set("sandflow.agent.env.HOSTILE_HOST_JSON", hostJson.toString())
                    .set("sandflow.agent.env.HOSTILE_HOST_TEXT", hostText.toString())
                    .set("sandflow.agent.env.HOSTILE_VICTIM", victim.toString())
                    .set("sandflow.agent.env.HOSTILE_VICTIM_TMP", victimTmp.toString())
                    .set("sandflow.agent.env.HOSTILE_VICTIM_HOME", victimHome.toString())
                    .set("sandflow.agent.env.HOSTILE_STORE", work.root.resolve("data").toString())
                    .set("sandflow.agent.env.HOSTILE_CONFIG", work.root.resolve("application.properties").toString())
                    .set("sandflow.agent.env.HOSTILE_SSH_DIR", ssh.toString())
                    .set("sandflow.agent.env.HOSTILE_SECRET_NAME", "AWS_SECRET_ACCESS_KEY")
                    .set("sandflow.agent.env.HOSTILE_FETCH_URL", "http://example.com/")
                    .set("sandflow.agent.env.HOSTILE_COLLECTOR", collectorUrl)
                    .set("sandflow.agent.env.HOSTILE_TOKEN", token);
        }

        void attack(String name, String attack) throws IOException {
            work.drop(name, "{\"attack\": \"" + attack + "\", \"summary\": \"the staged input, hard-linked\","
                    + " \"tags\": []}\n");
        }

        /** {@code run --once} in a child JVM whose environment holds the key and the other secret. */
        void run() throws Exception {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                    .toString(), "-Dfile.encoding=UTF-8", "-Duser.home=" + fakeHome, "-XX:TieredStopAtLevel=1",
                    "-XX:+UseSerialGC", "-cp", DaemonProcess.classPath(), Sandflow.class.getName(),
                    "-C", work.root.toString()));
            work.settings.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
            cmd.addAll(List.of("run", "--once"));
            Path logFile = root.resolve("daemon.log");
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.root.toFile()).redirectErrorStream(true)
                    .redirectOutput(logFile.toFile());
            pb.environment().put("LANG", "C.UTF-8");
            pb.environment().put("ANTHROPIC_API_KEY", apiKey);
            pb.environment().put("AWS_SECRET_ACCESS_KEY", otherSecret);
            Process daemon = pb.start();
            if (!daemon.waitFor(4, TimeUnit.MINUTES)) {
                daemon.destroyForcibly().waitFor();
            }
            exitCode = daemon.exitValue();
            log = Files.readString(logFile, StandardCharsets.UTF_8);
            System.out.println("----- " + kind + " run, exit " + exitCode + " -----\n" + log);
            collector.stop(0);
        }

        JsonNode result(String input) throws IOException {
            Path out = work.outbox().resolve(input.replace(".json", ".result.json"));
            assertThat(out).as("the result of " + input).exists();
            return work.json(out);
        }

        String summary(String input) throws IOException {
            return result(input).get("summary").asText();
        }

        JsonNode report(String input) throws IOException {
            return work.report(input);
        }

        /** Everything Sandflow wrote that a person or the next attempt reads: outbox, failed/, log, ledger, prompts. */
        String everythingPublished() throws IOException {
            StringBuilder all = new StringBuilder(log);
            for (Path dir : List.of(work.outbox(), work.failed())) {
                if (Files.isDirectory(dir)) {
                    try (Stream<Path> files = Files.walk(dir)) {
                        for (Path f : files.filter(Files::isRegularFile).toList()) {
                            all.append('\n').append(Files.readString(f, StandardCharsets.UTF_8));
                        }
                    }
                }
            }
            for (String name : work.names(work.failed())) {
                if (name.endsWith(".json") && !name.endsWith(".error.json")) {
                    for (JobRecord row : work.ledger(name)) {
                        all.append('\n').append(row.lastError());
                    }
                }
            }
            prompts.forEach(p -> all.append('\n').append(p));
            return all.toString();
        }

        /** Whether any 8 characters in a row of {@code secret} appear in {@code text}. */
        static boolean containsPieceOf(String text, String secret) {
            for (int i = 0; i + 8 <= secret.length(); i++) {
                if (text.contains(secret.substring(i, i + 8))) {
                    return true;
                }
            }
            return false;
        }

        List<Long> processesNamed(String marker) {
            return ProcessHandle.allProcesses()
                    .filter(p -> p.info().commandLine().orElse("").contains(marker) && Workdir.running(p.pid()))
                    .map(ProcessHandle::pid).toList();
        }

        void cleanUp() throws IOException {
            processesNamed("sandflow-left-" + token).forEach(pid -> ProcessHandle.of(pid)
                    .ifPresent(ProcessHandle::destroyForcibly));
            collector.stop(0);
            try (Stream<Path> all = Files.walk(root)) {
                for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    static boolean srtAvailable() {
        boolean there = ProcessRunner.locate("srt").isPresent() && ProcessRunner.locate("bwrap").isPresent();
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            assertThat(there).as("srt and bubblewrap must be installed in CI (bin/install-test-deps)").isTrue();
        }
        return there;
    }

    /** srt, two workers: every attack that needs no earlier job. */
    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class InsideSrt {
        Scenario s;

        @BeforeAll
        void run() throws Exception {
            assumeThat(srtAvailable()).as("srt and bubblewrap are not installed: run bin/install-test-deps").isTrue();
            s = new Scenario(Files.createTempDirectory("sandflow-boundary-srt"), "srt", 2);
            s.attack("a-symlink-output.json", "symlink-output");
            s.attack("b-symlink-output-text.json", "symlink-output-text");
            s.attack("c-symlink-out-dir.json", "symlink-out-dir");
            s.attack("d-hardlink-output.json", "hardlink-output");
            s.attack("e-write-outside.json", "write-outside");
            s.attack("f-read-secret.json", "read-secret");
            s.attack("g-network.json", "network");
            s.attack("h-detach.json", "detach");
            s.attack("i-leak-key.json", "leak-key");
            s.run();
        }

        @AfterAll
        void cleanUp() throws IOException {
            if (s != null) {
                s.cleanUp();
            }
        }

        @Test
        void anOutputFileLinkedToAHostFileIsRefusedAndNothingOfTheFileIsPublished() throws Exception {
            assertThat(s.work.names(s.work.outbox())).doesNotContain("a-symlink-output.result.json");
            assertThat(s.report("a-symlink-output.json").get("reason").asText())
                    .contains("the agent's output file is a symbolic link");
            assertThat(s.everythingPublished()).doesNotContain(s.hostJsonMarker);
        }

        @Test
        void anOutputFileLinkedToAHostTextFileLeaksNotEvenItsFirstWord() throws Exception {
            assertThat(s.report("b-symlink-output-text.json").get("reason").asText())
                    .contains("the agent's output file is a symbolic link");
            assertThat(s.everythingPublished()).doesNotContain(s.hostTextMarker);
            // The next attempt was told why, and nothing more
            assertThat(s.prompts).anySatisfy(p -> assertThat(p).contains("b-symlink-output-text.json")
                    .contains("the agent's output file is a symbolic link"));
        }

        @Test
        void anOutFolderLinkedToAHostFolderIsNeitherReadNorCleanedThrough() throws Exception {
            assertThat(s.report("c-symlink-out-dir.json").get("reason").asText()).contains("symbolic link");
            assertThat(s.victim.resolve("c-symlink-out-dir.result.json")).content().contains(s.hostJsonMarker);
            assertThat(s.work.names(s.victim)).containsExactly("c-symlink-out-dir.result.json", "canary.txt");
            assertThat(s.everythingPublished()).doesNotContain(s.hostJsonMarker);
        }

        @Test
        void aHardLinkToAHostFileCannotBeMadeAndAHardLinkedOutputFileIsRefused() throws Exception {
            assertThat(s.work.names(s.work.outbox())).doesNotContain("d-hardlink-output.result.json");
            assertThat(s.report("d-hardlink-output.json").get("reason").asText()).contains("hard link");
            assertThat(s.everythingPublished()).doesNotContain(s.hostJsonMarker);
        }

        @Test
        void writesToAnotherWorkerTheStoreTheConfigAndSshAreBlocked() throws Exception {
            // From inside, writes into the store's folder and ~/.ssh seem to work: srt hides a folder under an empty
            // tmpfs, which takes them and vanishes with the sandbox. What counts is the host, checked below.
            assertThat(s.summary("e-write-outside.json")).contains("write-other-worker=blocked", "write-config=blocked")
                    .doesNotContain("write-other-worker=ESCAPED");
            try (Stream<Path> all = Files.walk(s.root)) {
                assertThat(all.filter(p -> p.getFileName().toString().contains("planted-" + s.token)).toList())
                        .isEmpty();
            }
            assertThat(s.work.root.resolve("application.properties")).content().doesNotContain("kind=none");
            assertThat(s.fakeHome.resolve(".ssh/authorized_keys")).doesNotExist();
        }

        @Test
        void aSecretOfSandflowsEnvironmentIsNotInTheAgentsNorInAnyProcessItCanSee() throws Exception {
            assertThat(s.summary("f-read-secret.json")).contains("own-env=absent", "proc-environ=absent");
            assertThat(s.everythingPublished()).doesNotContain(s.otherSecret);
        }

        @Test
        void onlyTheAllowlistIsReachableOverHttpAndNoNameResolves() throws Exception {
            assertThat(s.summary("g-network.json")).contains("http-unlisted=blocked-403", "dns-lookup=blocked",
                    "dns-udp=blocked", "http-allowlisted=200");
        }

        @Test
        void aDetachedProcessDiesWithTheSandbox() throws Exception {
            assertThat(s.summary("h-detach.json")).contains("detach=started");
            assertThat(s.processesNamed("sandflow-left-" + s.token)).isEmpty();
        }

        @Test
        void aKeyPrintedToStdoutStderrAndTheResultNeverLeavesRedactedOrPublished() throws Exception {
            assertThat(s.work.names(s.work.outbox())).doesNotContain("i-leak-key.result.json");
            JsonNode report = s.report("i-leak-key.json");
            assertThat(report.get("reason").asText()).contains("secret");
            assertThat(report.get("stdoutTail").asText()).contains(io.sandflow.agent.Redactor.MASK);
            assertThat(report.get("stderrTail").asText()).contains(io.sandflow.agent.Redactor.MASK);
            String all = s.everythingPublished();
            assertThat(Scenario.containsPieceOf(all, s.apiKey)).as("a piece of the key was published").isFalse();
        }

        @Test
        void everyJobEndedAndTheRunSaysSomeFailed() {
            assertThat(s.exitCode).isEqualTo(1);
            assertThat(s.work.names(s.work.inbox())).isEmpty();
        }
    }

    /** srt, one worker: a job plants links in its workspace; the next job in it must not write through them. */
    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class AfterAJobPlantedLinks {
        Scenario s;

        @BeforeAll
        void run() throws Exception {
            assumeThat(srtAvailable()).as("srt and bubblewrap are not installed: run bin/install-test-deps").isTrue();
            s = new Scenario(Files.createTempDirectory("sandflow-boundary-plant"), "srt", 1);
            s.attack("a-plant-links.json", "plant-links");
            s.attack("b-next-job.json", "obey");
            s.run();
        }

        @AfterAll
        void cleanUp() throws IOException {
            if (s != null) {
                s.cleanUp();
            }
        }

        @Test
        void theNextJobStartsFromAFreshWorkspaceAndNothingLandsInTheHostFolders() throws Exception {
            assertThat(s.summary("a-plant-links.json")).contains("link-input=planted");
            assertThat(s.summary("b-next-job.json")).startsWith("obey");
            assertThat(s.work.names(s.victim)).containsExactlyInAnyOrder("canary.txt",
                    "c-symlink-out-dir.result.json");
            assertThat(s.work.names(s.victimTmp)).containsExactly("canary.txt");
            assertThat(s.work.names(s.victimHome)).containsExactly("canary.txt");
            assertThat(s.exitCode).isZero();
        }
    }

    /**
     * sbx, with the recording stand-in for its CLI (no microVM on this machine; its exec runs the agent here): what
     * the VM does is not shown, but Sandflow's own side of the boundary is the same for every kind.
     */
    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class BehindTheSbxStandIn {
        Scenario s;

        @BeforeAll
        void run() throws Exception {
            s = new Scenario(Files.createTempDirectory("sandflow-boundary-sbx"), "sbx", 1);
            Path sbx = Files.createDirectories(s.root.resolve("fake/bin")).resolve("sbx");
            try (InputStream in = SandboxBoundaryTest.class.getResourceAsStream("/sandbox/fake-sandbox-cli.sh")) {
                Files.copy(in, sbx);
            }
            Files.setPosixFilePermissions(sbx, PosixFilePermissions.fromString("rwxr-xr-x"));
            s.work.set("sandflow.sandbox.command", sbx.toString());
            s.attack("a-symlink-output.json", "symlink-output");
            s.attack("c-symlink-out-dir.json", "symlink-out-dir");
            s.attack("i-leak-key.json", "leak-key");
            s.run();
        }

        @AfterAll
        void cleanUp() throws IOException {
            if (s != null) {
                s.cleanUp();
            }
        }

        @Test
        void linksAreRefusedAndAKeyInTheResultIsNotPublished() throws Exception {
            assertThat(s.report("a-symlink-output.json").get("reason").asText())
                    .contains("the agent's output file is a symbolic link");
            assertThat(s.report("c-symlink-out-dir.json").get("reason").asText()).contains("symbolic link");
            assertThat(s.victim.resolve("c-symlink-out-dir.result.json")).exists();
            assertThat(s.work.names(s.work.outbox())).isEmpty();
            String all = s.everythingPublished();
            assertThat(all).doesNotContain(s.hostJsonMarker);
            assertThat(Scenario.containsPieceOf(all, s.apiKey)).as("a piece of the key was published").isFalse();
        }
    }

    /** No sandbox: what it cannot prevent, and what Sandflow still refuses to carry across. */
    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class WithoutASandbox {
        Scenario s;

        @BeforeAll
        void run() throws Exception {
            s = new Scenario(Files.createTempDirectory("sandflow-boundary-none"), "none", 2);
            s.work.set("sandflow.agent.env.HOSTILE_FETCH_URL", s.work.settings.get("sandflow.agent.env.HOSTILE_COLLECTOR")
                    + "/ping");
            s.attack("a-symlink-output.json", "symlink-output");
            s.attack("d-hardlink-output.json", "hardlink-output");
            s.attack("e-write-outside.json", "write-outside");
            s.attack("f-read-secret.json", "read-secret");
            s.attack("g-network.json", "network");
            s.attack("h-detach.json", "detach");
            s.run();
        }

        @AfterAll
        void cleanUp() throws IOException {
            if (s != null) {
                s.cleanUp();
            }
        }

        @Test
        void linksOutOfTheWorkspaceAreStillRefusedBySandflow() throws Exception {
            assertThat(s.report("a-symlink-output.json").get("reason").asText())
                    .contains("the agent's output file is a symbolic link");
            assertThat(s.report("d-hardlink-output.json").get("reason").asText()).contains("hard link");
            assertThat(s.everythingPublished()).doesNotContain(s.hostJsonMarker);
        }

        @Test
        void cannotPreventWritesOutsideTheWorkspace() throws Exception {
            assertThat(s.summary("e-write-outside.json")).contains("write-config=ESCAPED", "write-ssh=ESCAPED");
            assertThat(s.fakeHome.resolve(".ssh/authorized_keys")).exists();
        }

        @Test
        void cannotPreventReadingSandflowsEnvironmentButTheResultCarryingItIsRefused() throws Exception {
            assertThat(s.work.names(s.work.outbox())).doesNotContain("f-read-secret.result.json");
            assertThat(s.report("f-read-secret.json").get("reason").asText()).contains("AWS_SECRET_ACCESS_KEY");
            assertThat(s.everythingPublished()).doesNotContain(s.otherSecret);
        }

        @Test
        void cannotPreventReachingAnyHost() throws Exception {
            // The test's own server stands for a host that no allowlist names: without a sandbox there is none
            assertThat(s.summary("g-network.json")).contains("http-unlisted=ESCAPED");
        }

        @Test
        void aDetachedProcessIsKilledByItsAttemptsMark() {
            assertThat(s.processesNamed("sandflow-left-" + s.token)).isEmpty();
        }
    }
}
