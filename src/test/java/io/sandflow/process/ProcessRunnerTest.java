package io.sandflow.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

// A separate thread, because a runner that deadlocks on a pipe cannot be interrupted out of a blocked write.
@Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ProcessRunnerTest {

    private static final Duration GENEROUS = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private final ProcessRunner runner = new ProcessRunner();

    @BeforeEach
    void onlyOnPosix() {
        assumeThat(Path.of("/bin/bash")).isExecutable();
    }

    /** Keeps a failing test from leaving sleepers behind on a shared machine. */
    @AfterEach
    void killRecordedProcesses() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.getFileName().toString().endsWith(".pid")).toList()) {
                String text = Files.readString(file).trim();
                if (text.matches("\\d+")) {
                    ProcessHandle.of(Long.parseLong(text)).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
        }
    }

    @Test
    void reportsExitCodeAndStdoutOfASuccessfulChild() throws IOException {
        Path script = script("ok.sh", "printf 'hello\\n'\nexit 0\n");

        ProcessOutcome outcome = runner.run(spec(script, GENEROUS));

        assertThat(outcome.exitCode()).isZero();
        assertThat(outcome.timedOut()).isFalse();
        assertThat(outcome.stdoutText()).isEqualTo("hello\n");
        assertThat(outcome.stdoutTruncated()).isFalse();
        assertThat(outcome.stdoutTotalBytes()).isEqualTo(6);
        assertThat(outcome.stdoutTail()).isEqualTo("hello\n");
        assertThat(outcome.stderrTail()).isEmpty();
        assertThat(outcome.leftoverProcessesKilled()).isZero();
    }

    @Test
    void feedsStdinToTheChild() throws IOException {
        byte[] input = "première ligne\nالسطر الثاني\n".getBytes(StandardCharsets.UTF_8);
        ProcessSpec spec = new ProcessSpec(List.of("cat"), Map.of(), null, input, GENEROUS, 1024, 1024);

        ProcessOutcome outcome = runner.run(spec);

        assertThat(outcome.exitCode()).isZero();
        assertThat(outcome.stdout()).isEqualTo(input);
    }

    @Test
    void addsAndRemovesEnvironmentVariables() throws IOException {
        String inherited = System.getenv().keySet().stream()
                .filter(name -> name.matches("[A-Za-z_][A-Za-z0-9_]*") && !name.equals("PATH"))
                .sorted().findFirst().orElse(null);
        assumeThat(inherited).as("some inherited variable to remove").isNotNull();
        Path script = script("env.sh", """
                printf 'added=%s\\n' "${SANDFLOW_ADDED-unset}"
                if printenv "$1" >/dev/null; then echo "$1=present"; else echo "$1=removed"; fi
                """);
        Map<String, String> changes = new HashMap<>();
        changes.put("SANDFLOW_ADDED", "a value with spaces");
        changes.put(inherited, null);

        ProcessOutcome changed = runner.run(new ProcessSpec(List.of(script.toString(), inherited), changes, null,
                new byte[0], GENEROUS, 1024, 1024));
        ProcessOutcome untouched = runner.run(new ProcessSpec(List.of(script.toString(), inherited), Map.of(), null,
                new byte[0], GENEROUS, 1024, 1024));

        assertThat(changed.stdoutText()).isEqualTo("added=a value with spaces\n" + inherited + "=removed\n");
        assertThat(untouched.stdoutText()).isEqualTo("added=unset\n" + inherited + "=present\n");
    }

    @Test
    void runsInTheGivenWorkingDirectory() throws IOException {
        Path work = Files.createDirectory(dir.resolve("work dir"));
        Path script = script("pwd.sh", "pwd -P\n");

        ProcessOutcome outcome = runner.run(new ProcessSpec(List.of(script.toString()), Map.of(), work, null,
                GENEROUS, 1024, 1024));

        assertThat(outcome.stdoutText()).isEqualTo(work.toRealPath() + "\n");
    }

    @Test
    void resolvesARelativeExecutableAgainstTheWorkingDirectory() throws IOException {
        script("relative.sh", "echo relative\n");

        ProcessOutcome outcome = runner.run(new ProcessSpec(List.of("./relative.sh"), Map.of(), dir, null,
                GENEROUS, 1024, 1024));

        assertThat(outcome.stdoutText()).isEqualTo("relative\n");
    }

    @Test
    void reportsANonZeroExitInsteadOfThrowing() throws IOException {
        Path script = script("fail.sh", "echo partial\necho 'it broke' >&2\nexit 3\n");

        ProcessOutcome outcome = runner.run(spec(script, GENEROUS));

        assertThat(outcome.exitCode()).isEqualTo(3);
        assertThat(outcome.timedOut()).isFalse();
        assertThat(outcome.stdoutText()).isEqualTo("partial\n");
        assertThat(outcome.stderrTail()).isEqualTo("it broke\n");
    }

    @Test
    void childLeadsItsOwnProcessGroup() throws IOException {
        assumeThat(runner.usesProcessGroups()).isTrue();
        Path script = script("pgid.sh", "echo \"$$ $(ps -o pgid= -p $$ | tr -d ' ')\"\n");

        String[] pidAndGroup = runner.run(spec(script, GENEROUS)).stdoutText().trim().split(" ");

        assertThat(pidAndGroup).hasSize(2);
        assertThat(pidAndGroup[1]).isEqualTo(pidAndGroup[0]);
    }

    @Test
    void timeoutKillsTheChildAndItsForkedGrandchild() throws IOException {
        Path script = script("slow.sh", """
                echo $$ > main.pid
                sleep 300 &
                echo $! > grandchild.pid
                sleep 300
                """);

        ProcessOutcome outcome = runner.run(specIn(dir, script, Duration.ofSeconds(1)));

        assertThat(outcome.timedOut()).isTrue();
        assertThat(outcome.exitCode()).isIn(128 + 15, 128 + 9, -1);
        assertThat(outcome.elapsed()).isLessThan(Duration.ofSeconds(10));
        assertThat(outcome.leftoverProcessesKilled()).isGreaterThanOrEqualTo(2);
        assertThat(running(pidIn("main.pid"))).as("main child alive").isFalse();
        assertThat(running(pidIn("grandchild.pid"))).as("grandchild alive").isFalse();
    }

    @Test
    void timeoutKillsTheTreeThroughDescendantsWhenThereIsNoSetsid() throws IOException {
        ProcessRunner withoutGroups = new ProcessRunner(null, Duration.ofSeconds(2), Duration.ofSeconds(2));
        Path script = script("slow.sh", """
                echo $$ > main.pid
                sleep 300 &
                echo $! > grandchild.pid
                sleep 300
                """);

        ProcessOutcome outcome = withoutGroups.run(specIn(dir, script, Duration.ofSeconds(1)));

        assertThat(withoutGroups.usesProcessGroups()).isFalse();
        assertThat(outcome.timedOut()).isTrue();
        assertThat(outcome.elapsed()).isLessThan(Duration.ofSeconds(10));
        assertThat(running(pidIn("main.pid"))).as("main child alive").isFalse();
        assertThat(running(pidIn("grandchild.pid"))).as("grandchild alive").isFalse();
    }

    @Test
    void childIgnoringSigtermIsKilledAfterTheGrace() throws IOException {
        assumeThat(runner.usesProcessGroups()).isTrue();
        ProcessRunner shortGrace = new ProcessRunner(Path.of("/usr/bin/setsid"), Duration.ofMillis(300),
                Duration.ofSeconds(2));
        Path script = script("stubborn.sh", """
                trap '' TERM
                echo $$ > main.pid
                while :; do sleep 0.1; done
                """);

        ProcessOutcome outcome = shortGrace.run(specIn(dir, script, Duration.ofMillis(500)));

        assertThat(outcome.timedOut()).isTrue();
        assertThat(outcome.exitCode()).isEqualTo(128 + 9);
        assertThat(outcome.elapsed()).isLessThan(Duration.ofSeconds(5));
        assertThat(running(pidIn("main.pid"))).isFalse();
    }

    @Test
    void grandchildHoldingStdoutDoesNotBlockTheCall() throws IOException {
        Path script = script("leaves.sh", """
                (sleep 300; echo late) &
                echo $! > grandchild.pid
                echo hi
                exit 0
                """);

        ProcessOutcome outcome = runner.run(specIn(dir, script, GENEROUS));

        assertThat(outcome.timedOut()).isFalse();
        assertThat(outcome.exitCode()).isZero();
        assertThat(outcome.elapsed()).isLessThan(Duration.ofSeconds(10));
        assertThat(outcome.stdoutText()).isEqualTo("hi\n");
        assertThat(outcome.leftoverProcessesKilled()).isGreaterThanOrEqualTo(1);
        assertThat(running(pidIn("grandchild.pid"))).as("grandchild alive").isFalse();
        assertThat(Thread.getAllStackTraces().keySet())
                .filteredOn(t -> t.getName().startsWith("sandflow-proc-"))
                .as("stream threads still running")
                .isEmpty();
    }

    @Test
    void doubleForkedGrandchildStillInTheGroupIsKilled() throws IOException {
        assumeThat(runner.usesProcessGroups()).isTrue();
        Path script = script("daemonize.sh", """
                ( sleep 300 >/dev/null 2>&1 </dev/null & echo $! > grandchild.pid )
                ps -o ppid= -p "$(cat grandchild.pid)" | tr -d ' ' > grandchild.ppid
                echo $$ > main.pid
                exit 0
                """);

        ProcessOutcome outcome = runner.run(specIn(dir, script, GENEROUS));

        assertThat(outcome.exitCode()).isZero();
        assertThat(Files.readString(dir.resolve("grandchild.ppid")).trim())
                .as("grandchild must have been reparented away from the main child")
                .isNotEqualTo(Long.toString(pidIn("main.pid")));
        assertThat(outcome.leftoverProcessesKilled()).isGreaterThanOrEqualTo(1);
        assertThat(running(pidIn("grandchild.pid"))).as("grandchild alive").isFalse();
    }

    @Test
    void aChildDetachedIntoItsOwnSessionByAnAgentThatExitsAtOnceIsKilled() throws IOException {
        Path script = script("detach.sh", """
                setsid sleep 300 < /dev/null > /dev/null 2>&1 &
                echo $! > detached.pid
                exit 0
                """);

        ProcessOutcome outcome = runner.run(specIn(dir, script, GENEROUS));

        assertThat(outcome.exitCode()).isZero();
        long detached = pidIn("detached.pid");
        assertThat(running(detached)).as("the detached child outlived its run").isFalse();
        assertThat(outcome.leftoverProcessesKilled()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void aChildThatLeftTheGroupAndTheTreeBeforeTheFirstLookIsFoundByTheRunsMark() throws IOException {
        // A double fork into a new session: no longer a descendant, no longer in the group, gone before any poll
        Path script = script("escape.sh", """
                ( setsid sh -c 'echo $$ > escaped.pid; exec sleep 300' < /dev/null > /dev/null 2>&1 & )
                while [ ! -s escaped.pid ]; do :; done
                exit 0
                """);

        runner.run(specIn(dir, script, GENEROUS));

        assertThat(running(pidIn("escaped.pid"))).as("the escaped process outlived its run").isFalse();
    }

    @Test
    void aChildThatClearsItsEnvironmentEscapesTheMark() throws IOException {
        // What the mark cannot promise, said by a test: env -i drops it, and the process leaves group and tree
        Path script = script("scrub.sh", """
                ( setsid env -i /bin/sh -c 'echo $$ > scrubbed.pid; exec sleep 300' < /dev/null > /dev/null 2>&1 & )
                while [ ! -s scrubbed.pid ]; do :; done
                exit 0
                """);

        runner.run(specIn(dir, script, GENEROUS));

        long scrubbed = pidIn("scrubbed.pid");
        try {
            assertThat(running(scrubbed)).as("a process without the mark is not found").isTrue();
        } finally {
            ProcessHandle.of(scrubbed).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void hugeOutputIsCountedButOnlyPartlyKept() throws IOException {
        int total = 50_000_000;
        Path script = script("flood.sh", "yes 0123456789abcdef | head -c " + (total - 7) + "\nprintf 'THE-END'\n");
        int max = 1 << 20;

        ProcessOutcome outcome = runner.run(new ProcessSpec(List.of(script.toString()), Map.of(), null, null,
                GENEROUS, max, 64));

        assertThat(outcome.exitCode()).isZero();
        assertThat(outcome.stdout()).hasSize(max);
        assertThat(outcome.stdoutText()).startsWith("0123456789abcdef\n0123456789abcdef\n");
        assertThat(outcome.stdoutTruncated()).isTrue();
        assertThat(outcome.stdoutTotalBytes()).isEqualTo(total);
        assertThat(outcome.stdoutTail()).hasSize(64).endsWith("THE-END");
    }

    @Test
    void childThatNeverReadsStdinDoesNotDeadlock() throws IOException {
        Path script = script("deaf.sh", "echo done\nexit 0\n");
        byte[] megabyte = new byte[1 << 20];
        Arrays.fill(megabyte, (byte) 'x');

        ProcessOutcome outcome = runner.run(new ProcessSpec(List.of(script.toString()), Map.of(), null, megabyte,
                GENEROUS, 1024, 1024));

        assertThat(outcome.timedOut()).isFalse();
        assertThat(outcome.exitCode()).isZero();
        assertThat(outcome.stdoutText()).isEqualTo("done\n");
        assertThat(outcome.elapsed()).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void childThatNeverReadsStdinStillTimesOut() throws IOException {
        Path script = script("deaf-and-slow.sh", "echo $$ > main.pid\necho started\nsleep 300\n");
        byte[] megabyte = new byte[1 << 20];

        ProcessOutcome outcome = runner.run(new ProcessSpec(List.of(script.toString()), Map.of(), dir, megabyte,
                Duration.ofSeconds(1), 1024, 1024));

        assertThat(outcome.timedOut()).isTrue();
        assertThat(outcome.stdoutText()).isEqualTo("started\n");
        assertThat(outcome.elapsed()).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void hostileArgumentArrivesIntactAndIsNotExecuted() throws IOException {
        String hostile = "-rf مرحبا بالعالم $(touch pwned1) `touch pwned2`; touch pwned3 && echo * \"'";
        Path script = script("args.sh", "printf '%s\\n' \"$#\"\nprintf '%s' \"$1\"\n");

        ProcessOutcome outcome = runner.run(new ProcessSpec(List.of(script.toString(), hostile), Map.of(), dir,
                null, GENEROUS, 4096, 4096));

        assertThat(outcome.exitCode()).isZero();
        assertThat(outcome.stdoutText()).isEqualTo("1\n" + hostile);
        assertThat(dir.resolve("pwned1")).doesNotExist();
        assertThat(dir.resolve("pwned2")).doesNotExist();
        assertThat(dir.resolve("pwned3")).doesNotExist();
    }

    @Test
    void missingExecutableIsAnIOExceptionNamingIt() {
        assertThatThrownBy(() -> runner.run(ProcessSpec.of(GENEROUS, "sandflow-no-such-agent-cli", "--help")))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("sandflow-no-such-agent-cli");
        Path absent = dir.resolve("nowhere").resolve("agent");
        assertThatThrownBy(() -> runner.run(ProcessSpec.of(GENEROUS, absent.toString())))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(absent.toString());
    }

    @Test
    void nonExecutableFileIsAnIOExceptionNamingIt() throws IOException {
        Path plain = Files.writeString(dir.resolve("plain.sh"), "echo hi\n");

        assertThatThrownBy(() -> runner.run(ProcessSpec.of(GENEROUS, plain.toString())))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(plain.toString());
    }

    @Test
    void interruptingTheCallerKillsTheTree() throws Exception {
        Path script = script("slow.sh", """
                sleep 300 &
                echo $! > grandchild.pid
                echo $$ > main.pid
                sleep 300
                """);
        Thread[] caller = new Thread[1];
        CompletableFuture<Throwable> failure = CompletableFuture.supplyAsync(() -> {
            caller[0] = Thread.currentThread();
            try {
                runner.run(specIn(dir, script, GENEROUS));
                return null;
            } catch (Throwable t) {
                return t;
            }
        }, r -> new Thread(r, "test-caller").start());

        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(dir.resolve("main.pid"))
                && Files.size(dir.resolve("main.pid")) > 0);
        caller[0].interrupt();

        assertThat(failure.get(10, TimeUnit.SECONDS)).isInstanceOf(InterruptedIOException.class);
        assertThat(running(pidIn("main.pid"))).isFalse();
        assertThat(running(pidIn("grandchild.pid"))).isFalse();
    }

    private ProcessSpec spec(Path script, Duration timeout) {
        return new ProcessSpec(List.of(script.toString()), Map.of(), null, null, timeout, 64 * 1024, 4096);
    }

    private ProcessSpec specIn(Path workingDir, Path script, Duration timeout) {
        return new ProcessSpec(List.of(script.toString()), Map.of(), workingDir, null, timeout, 64 * 1024, 4096);
    }

    private Path script(String name, String body) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, "#!/bin/bash\n" + body);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        return file;
    }

    private long pidIn(String file) throws IOException {
        return Long.parseLong(Files.readString(dir.resolve(file)).trim());
    }

    /**
     * A zombie counts as dead: the JDK reports it alive, but a killed orphan waits for init to reap it,
     * which takes about two seconds in some containers.
     */
    private static boolean running(long pid) {
        if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (IOException e) {
            return !Files.isDirectory(Path.of("/proc"));
        }
    }

    /**
     * The working folder is the agent's workspace, which it writes: an empty or relative PATH entry (a trailing
     * colon is enough) would let a program it planted there run on the host as the next attempt's agent or sandbox.
     */
    @Test
    void aProgramInTheWorkingFolderIsNotFoundThroughAnEmptyOrRelativePathEntry() throws IOException {
        Path workspace = Files.createDirectories(dir.resolve("workspace"));
        Path planted = workspace.resolve("planted-agent");
        Files.writeString(planted, "#!/bin/sh\necho planted\n");
        Files.setPosixFilePermissions(planted, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createDirectories(workspace.resolve("bin"));
        Files.copy(planted, workspace.resolve("bin/planted-agent"));

        for (String path : List.of("/usr/bin:", ":/usr/bin", "/usr/bin::/bin", "bin:/usr/bin", ".")) {
            assertThatThrownBy(() -> ProcessRunner.resolveExecutable("planted-agent", path, workspace)).as(path)
                    .isInstanceOf(IOException.class).hasMessageContaining("not found on PATH");
        }
        assertThat(ProcessRunner.resolveExecutable("planted-agent", workspace.toString(), workspace)).isEqualTo(planted);
    }
}
