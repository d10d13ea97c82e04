package io.sandflow.flow;

import io.sandflow.cli.DoctorCommand;
import io.sandflow.cli.Sandflow;
import io.sandflow.config.Settings;
import org.junit.jupiter.api.extension.RegisterExtension;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import io.sandflow.process.ProcessRunner;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The management server listens on the loopback address unless sandflow.http.host says otherwise, and a port it
 * cannot have (out of range, or held by another program) stops start-up with one sentence and exit 2; doctor says so.
 */
@Tag("process")
@Timeout(value = 90, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HttpBindingTest {

    @TempDir
    Path dir;
    @RegisterExtension
    final Stderr err = new Stderr();

    @Test
    void theServerListensOnLoopbackOnlyByDefault() throws Exception {
        assumeThat(Path.of("/proc/net/tcp")).exists();
        int port = LocalHttp.freePort();
        Workdir work = new Workdir(dir).set("sandflow.http.port", Integer.toString(port))
                .set("sandflow.agent.env.STANDIN_DELAY", "4");
        work.ask("slow.json", "slow");
        CompletableFuture<Integer> run = CompletableFuture.supplyAsync(work::runOnce);

        await().atMost(Duration.ofSeconds(30)).until(() -> !listeners(port).isEmpty());
        assertThat(listeners(port)).containsExactly("127.0.0.1");
        assertThat(run.get(60, TimeUnit.SECONDS)).isZero();
    }

    @Test
    void aPortOutOfRangeIsOneSentenceAndExit2() {
        int code = Sandflow.execute("-C", dir.toString(), "-Dsandflow.sandbox.kind=none",
                "-Dsandflow.sandbox.allow-unsandboxed=true", "-Dsandflow.agent.command=/bin/true",
                "-Dsandflow.http.port=70000", "run", "--once");

        assertThat(code).isEqualTo(2);
        assertThat(stderrLines()).singleElement().asString().contains("sandflow.http.port").contains("70000");
    }

    @Test
    void aBusyPortIsOneSentenceAndExit2() throws Exception {
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Workdir work = new Workdir(dir).set("sandflow.http.port", Integer.toString(busy.getLocalPort()));
            work.ask("a.json", "success");

            int code = work.runOnce();

            assertThat(code).isEqualTo(2);
            assertThat(stderrLines()).singleElement().asString().contains("sandflow.http.port=" + busy.getLocalPort())
                    .contains("in use");
            assertThat(work.names(work.inbox())).containsExactly("a.json");
        }
    }

    @Test
    void doctorSaysWhenThePortIsTaken() throws Exception {
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int rc = new DoctorCommand(Map.of("PATH", System.getenv("PATH")), new ProcessRunner()).run(
                    Settings.of(dir, Map.of("sandflow.http.port", Integer.toString(busy.getLocalPort()))),
                    new PrintStream(out, true, StandardCharsets.UTF_8));

            assertThat(rc).isEqualTo(1);
            assertThat(out.toString(StandardCharsets.UTF_8)).contains("MISSING  http: sandflow.http.port="
                    + busy.getLocalPort() + " is already in use on 127.0.0.1");
        }
    }

    private List<String> stderrLines() {
        return err.text().lines().filter(l -> !l.isBlank()).toList();
    }

    /** The addresses a socket listens on at {@code port}, from /proc/net/tcp and tcp6 (little-endian hex words). */
    private static List<String> listeners(int port) throws IOException {
        String hexPort = String.format(Locale.ROOT, "%04X", port);
        List<String> found = new java.util.ArrayList<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            if (!Files.exists(Path.of(table))) {
                continue;
            }
            List<String> lines = Files.readAllLines(Path.of(table));
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.trim().split("\\s+");
                if (f[1].endsWith(":" + hexPort) && f[3].equals("0A")) {
                    String hex = f[1].substring(0, f[1].indexOf(':'));
                    // An IPv4 address, alone or mapped into IPv6 (::ffff:a.b.c.d), is the last word
                    String v4 = hex.substring(hex.length() - 8);
                    boolean ipv4 = hex.length() == 8 || hex.startsWith("0000000000000000FFFF0000");
                    found.add(ipv4 ? Integer.parseInt(v4.substring(6, 8), 16) + "." + Integer.parseInt(v4.substring(4, 6), 16)
                            + "." + Integer.parseInt(v4.substring(2, 4), 16) + "." + Integer.parseInt(v4.substring(0, 2), 16)
                            : hex.chars().allMatch(c -> c == '0') ? "::" : hex);
                }
            }
        }
        return found;
    }
}
