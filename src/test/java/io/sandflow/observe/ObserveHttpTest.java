package io.sandflow.observe;

import io.sandflow.flow.LocalHttp;
import io.sandflow.flow.Workdir;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Runs the daemon in-process with its HTTP port open and checks what a scraper and a probe see: the job counters
 * after a run, the breaker's state, and readiness following whether the outbox can be written.
 */
@Tag("process")
class ObserveHttpTest {

    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})? (\\S+)$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    @TempDir
    Path dir;
    private CompletableFuture<Integer> daemon;
    private Workdir work;

    @AfterEach
    void stop() throws IOException {
        if (work != null) {
            Files.setPosixFilePermissions(work.outbox(), PosixFilePermissions.fromString("rwxr-xr-x"));
            // The parked input keeps `run --once` waiting; without it the inbox is drained and the run ends
            Files.deleteIfExists(work.inbox().resolve("z-auth.json"));
        }
        if (daemon != null) {
            await().atMost(Duration.ofSeconds(20)).until(daemon::isDone);
        }
    }

    @Test
    void metricsCountTheRunAndReadinessFollowsTheOutbox() throws Exception {
        int port = LocalHttp.freePort();
        work = new Workdir(dir).set("sandflow.http.port", Integer.toString(port))
                .set("sandflow.workers", "1").set("sandflow.once.max-wait", "2m")
                .set("sandflow.breaker.open-for", "2m").set("sandflow.observe.refresh", "200ms")
                .set("sandflow.agent.env.STANDIN_COST_USD", "0.5");
        work.ask("a-ok.json", "success");
        work.ask("b-ok.json", "success");
        work.ask("c-rejected.json", "bad-request");
        // Last by name, with one worker: a systemic failure that opens the breaker and parks its job, which keeps
        // `run --once` waiting (and serving HTTP) until the test removes it
        work.ask("z-auth.json", "auth");
        daemon = CompletableFuture.supplyAsync(work::runOnce);

        // The port opens a moment after the run starts
        await().atMost(Duration.ofSeconds(20)).ignoreExceptionsInstanceOf(java.net.ConnectException.class)
                .untilAsserted(() -> {
            String metrics = LocalHttp.get(port, "/observe/metrics").body();
            assertThat(sample(metrics, "sandflow_jobs_total", "outcome", "ok", "class", "none")).hasValue(2);
            assertThat(sample(metrics, "sandflow_jobs_total", "outcome", "failed", "class", "permanent")).hasValue(1);
            assertThat(sample(metrics, "sandflow_attempt_duration_seconds_count", "result", "exit0")).hasValue(2);
            assertThat(sample(metrics, "sandflow_attempt_duration_seconds_count", "result", "error")).hasValue(2);
            assertThat(sample(metrics, "sandflow_spend_usd_total")).hasValue(1.0);
            assertThat(sample(metrics, "sandflow_tokens_total", "direction", "in")).hasValue(2400);
            assertThat(sample(metrics, "sandflow_workers")).hasValue(1);
            assertThat(sample(metrics, "sandflow_breaker_state", "state", "open")).hasValue(1);
            assertThat(sample(metrics, "sandflow_breaker_state", "state", "closed")).hasValue(0);
            assertThat(sample(metrics, "sandflow_jobs_total", "outcome", "parked", "class", "systemic")).hasValue(1);
            assertThat(sample(metrics, "sandflow_queue_jobs", "state", "parked")).hasValue(1);
        });

        // The open breaker is a detail of readiness, not a reason to be down
        HttpResponse<String> ready = LocalHttp.get(port, "/observe/health/ready?data=true");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).contains("\"breaker\":\"OPEN\"");
        assertThat(LocalHttp.get(port, "/observe/health/live").statusCode()).isEqualTo(200);

        Files.setPosixFilePermissions(work.outbox(), PosixFilePermissions.fromString("r-xr-xr-x"));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            HttpResponse<String> notReady = LocalHttp.get(port, "/observe/health/ready");
            assertThat(notReady.statusCode()).isEqualTo(503);
            // Camel's JSON escapes slashes
            assertThat(notReady.body().replace("\\", "")).contains("cannot write to " + work.outbox());
        });
        assertThat(LocalHttp.get(port, "/observe/health/live").statusCode()).as("not ready is not dead").isEqualTo(200);

        Files.setPosixFilePermissions(work.outbox(), PosixFilePermissions.fromString("rwxr-xr-x"));
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(LocalHttp.get(port, "/observe/health/ready").statusCode()).isEqualTo(200));
    }

    @Test
    void nothingListensWhenThePortIsZero() throws Exception {
        int port = LocalHttp.freePort();
        work = new Workdir(dir).set("sandflow.http.port", "0");
        work.ask("a.json", "success");

        assertThat(work.runOnce()).isZero();

        try (ServerSocket probe = new ServerSocket(port)) {
            assertThat(probe.isBound()).as("port %d was left free", port).isTrue();
        }
        work = null;
    }

    /** The value of the one sample of {@code name} carrying these label pairs (others may be present). */
    static OptionalDouble sample(String exposition, String name, String... labelPairs) {
        Map<String, String> wanted = new HashMap<>();
        for (int i = 0; i < labelPairs.length; i += 2) {
            wanted.put(labelPairs[i], labelPairs[i + 1]);
        }
        List<Double> found = new ArrayList<>();
        for (String line : exposition.split("\n")) {
            Matcher m = SAMPLE.matcher(line.trim());
            if (line.startsWith("#") || !m.matches() || !m.group(1).equals(name)) {
                continue;
            }
            Map<String, String> labels = new HashMap<>();
            if (m.group(3) != null) {
                Matcher l = LABEL.matcher(m.group(3));
                while (l.find()) {
                    labels.put(l.group(1), l.group(2));
                }
            }
            if (labels.entrySet().containsAll(wanted.entrySet())) {
                found.add(Double.parseDouble(m.group(4)));
            }
        }
        return found.size() == 1 ? OptionalDouble.of(found.get(0)) : OptionalDouble.empty();
    }
}
