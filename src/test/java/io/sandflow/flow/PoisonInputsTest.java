package io.sandflow.flow;

import com.fasterxml.jackson.databind.JsonNode;
import io.sandflow.job.FailureClass;
import io.sandflow.job.JobState;
import io.sandflow.store.AttemptRecord;
import io.sandflow.store.JobRecord;
import io.sandflow.store.JobStore;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Inputs whose agent always hangs or always crashes must spend their own retries and end in failed/, while every
 * other input is done: their failures are not evidence that the agent service is down, so they never open the
 * circuit breaker, and a job waiting for its backoff does not hold a worker.
 */
@Tag("process")
class PoisonInputsTest {

    private static final int GOOD = 20;
    private static final int MAX_ATTEMPTS = 3;

    @TempDir
    Path dir;
    Workdir work;

    @BeforeEach
    void setUp() throws IOException {
        work = new Workdir(dir);
        // The shipped breaker: 50% of the last 10 calls, counted from the 4th
        work.set("sandflow.breaker.window", "10").set("sandflow.breaker.min-calls", "4")
                .set("sandflow.breaker.failure-rate", "50").set("sandflow.breaker.open-for", "1s")
                .set("sandflow.retry.max-attempts", Integer.toString(MAX_ATTEMPTS));
    }

    @Test
    void hangingAndCrashingInputsFailAfterTheirOwnRetriesAndTheRestIsDone() throws IOException {
        work.set("sandflow.agent.timeout", "1s")
                .set("sandflow.retry.backoff.initial", "200ms").set("sandflow.retry.backoff.max", "1s")
                .set("sandflow.retry.backoff.jitter", "0")
                .set("sandflow.agent.env.STANDIN_DELAY", "0.05");
        List<String> good = new ArrayList<>();
        List<String> poison = new ArrayList<>();
        for (int i = 0; i < GOOD + 6; i++) {
            String name = String.format("job-%02d.json", i);
            // the poison spread through the batch, as it would be in a real inbox
            if (i % 4 == 2) {
                String behaviour = poison.size() % 2 == 0 ? "hang" : "crash";
                poison.add(name);
                work.ask(name, behaviour);
            } else {
                good.add(name);
                work.ask(name, "success");
            }
        }

        int exit;
        List<String> breakerLines;
        try (LogCapture log = LogCapture.start()) {
            exit = work.runOnce();
            breakerLines = log.matching("(?i)circuit breaker (is )?open");
        }

        assertThat(exit).as("run --once exit code: some jobs failed").isEqualTo(1);
        assertThat(breakerLines).as("the breaker never opens").isEmpty();
        assertThat(work.names(work.inbox())).isEmpty();
        assertThat(work.names(work.outbox())).hasSize(GOOD);
        for (String name : good) {
            assertThat(work.outbox().resolve(name.replace(".json", ".result.json"))).exists();
        }
        List<String> failed = new ArrayList<>(poison);
        poison.forEach(n -> failed.add(n + ".error.json"));
        assertThat(work.names(work.failed())).containsExactlyInAnyOrderElementsOf(failed);
        for (String name : poison) {
            JsonNode report = work.report(name);
            assertThat(report.path("attempts").asInt()).as(name + " attempts in its report").isEqualTo(MAX_ATTEMPTS);
            assertThat(report.path("class").asText()).isEqualTo("permanent");
            assertThat(report.path("lastAttemptClass").asText()).isEqualTo("transient");
            assertThat(work.agentCalls(name)).as(name + " agent runs").isEqualTo(MAX_ATTEMPTS);
            assertThat(work.ledger(name)).singleElement().satisfies(r -> {
                assertThat(r.state()).isEqualTo(JobState.FAILED);
                assertThat(r.attempts()).isEqualTo(MAX_ATTEMPTS);
            });
        }
        for (String name : good) {
            assertThat(work.ledger(name)).singleElement().extracting(JobRecord::state).isEqualTo(JobState.DONE);
        }
        // Every attempt is in the job's history
        try (JobStore store = JobStore.open("jdbc:h2:" + work.root.resolve("data/sandflow"), null, null)) {
            for (String name : poison) {
                List<AttemptRecord> attempts = store.attempts(store.findByName(name).get(0).id());
                assertThat(attempts).as(name).extracting(AttemptRecord::attempt).containsExactly(1, 2, 3);
                assertThat(attempts).allSatisfy(a -> {
                    assertThat(a.failureClass()).isEqualTo(FailureClass.TRANSIENT);
                    assertThat(a.node()).isNotBlank();
                    assertThat(a.endedAt()).isAfterOrEqualTo(a.startedAt());
                });
                if (name.equals(poison.get(0))) {
                    assertThat(attempts).allSatisfy(a -> {
                        assertThat(a.timedOut()).isTrue();
                        assertThat(a.reason()).contains("sandflow.agent.timeout");
                    });
                } else if (name.equals(poison.get(1))) {
                    assertThat(attempts).allSatisfy(a -> {
                        assertThat(a.exitCode()).isEqualTo(1);
                        assertThat(a.reason()).contains("no output");
                    });
                }
            }
            AttemptRecord ok = store.attempts(store.findByName(good.get(0)).get(0).id()).get(0);
            assertThat(ok.failureClass()).isNull();
            assertThat(ok.exitCode()).isZero();
            assertThat(ok.inputTokens()).isEqualTo(1200);
            assertThat(ok.outputTokens()).isEqualTo(80);
            assertThat(ok.sandbox()).isNotBlank();
        }
    }

    /**
     * One worker: while the crashing input waits out its 2 s backoff, the worker runs the other inputs, which all
     * start before the crashing input's second attempt.
     */
    @Test
    void aBackoffFreesItsWorker() throws IOException {
        work.set("sandflow.workers", "1").set("sandflow.retry.max-attempts", "2")
                .set("sandflow.retry.backoff.initial", "2s").set("sandflow.retry.backoff.max", "2s")
                .set("sandflow.retry.backoff.jitter", "0");
        work.ask("a-crash.json", "crash");
        List<String> good = List.of("b-0.json", "b-1.json", "b-2.json", "b-3.json");
        for (String name : good) {
            work.ask(name, "success");
        }

        assertThat(work.runOnce()).isEqualTo(1);

        List<String[]> calls = DaemonProcess.calls(work);
        List<Long> crashCalls = calls.stream().filter(c -> c[2].equals("a-crash.json"))
                .map(c -> Long.parseLong(c[0])).toList();
        assertThat(crashCalls).hasSize(2);
        Map<String, Long> goodStarts = new java.util.TreeMap<>();
        calls.stream().filter(c -> good.contains(c[2])).forEach(c -> goodStarts.put(c[2], Long.parseLong(c[0])));
        assertThat(goodStarts.keySet()).containsExactlyElementsOf(good);
        assertThat(goodStarts.values()).as("the other inputs ran during the crashing input's backoff")
                .allSatisfy(start -> assertThat(start).isLessThan(crashCalls.get(1)));
        assertThat(work.names(work.outbox())).hasSize(good.size());
        assertThat(work.report("a-crash.json").path("attempts").asInt()).isEqualTo(2);
    }

    /**
     * The daemon stops while a job waits for its backoff; the next run goes on counting from where it stopped, so
     * the job gets exactly sandflow.retry.max-attempts runs in all, not that many per start.
     */
    @Test
    void attemptCountsSurviveARestart() throws Exception {
        work.set("sandflow.retry.backoff.initial", "4s").set("sandflow.retry.backoff.max", "4s")
                .set("sandflow.retry.backoff.jitter", "0").set("sandflow.shutdown.grace", "2s");
        work.ask("c.json", "crash");
        Process daemon = DaemonProcess.start(work, "run");
        try {
            org.awaitility.Awaitility.await("the first attempt failed and its backoff began")
                    .atMost(java.time.Duration.ofSeconds(60))
                    .until(() -> java.nio.file.Files.exists(DaemonProcess.log(work)) && java.nio.file.Files
                            .readString(DaemonProcess.log(work)).contains("c.json: attempt 1 failed"));
        } finally {
            DaemonProcess.terminate(daemon, java.time.Duration.ofSeconds(30));
        }
        assertThat(DaemonProcess.callCount(work)).as("runs before the restart").isEqualTo(1);

        work.set("sandflow.retry.backoff.initial", "10ms").set("sandflow.retry.backoff.max", "10ms")
                .set("sandflow.once.max-wait", "10s");
        int exit = work.runOnce();

        DaemonProcess.printLog(work);
        assertThat(exit).isEqualTo(1);
        assertThat(work.agentCalls("c.json")).as("agent runs over both starts").isEqualTo(MAX_ATTEMPTS);
        assertThat(work.report("c.json").path("attempts").asInt()).isEqualTo(MAX_ATTEMPTS);
    }
}
