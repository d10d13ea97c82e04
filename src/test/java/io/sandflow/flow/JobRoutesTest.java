package io.sandflow.flow;

import io.sandflow.config.SandflowConfig;
import io.sandflow.config.Settings;
import io.sandflow.job.FailureClass;
import io.sandflow.job.JobKey;
import io.sandflow.job.JobState;
import io.sandflow.process.ProcessOutcome;
import io.sandflow.store.AttemptRecord;
import io.sandflow.store.JobRecord;
import org.apache.camel.CamelContext;
import org.apache.camel.EndpointInject;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.BeanInject;
import org.apache.camel.component.exec.ExecCommand;
import org.apache.camel.component.exec.ExecResult;
import org.apache.camel.main.MainConfigurationProperties;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.apache.camel.test.main.junit5.Configure;
import org.apache.camel.test.main.junit5.ReplaceInRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The job routes as shipped, booted once by Camel's test support for Camel Main, with the agent executor replaced in
 * the registry by a scripted agent that answers in-process: one test per branch of a job's flow, each its own input.
 * The intake's file consumer is replaced by a direct endpoint, so each test hands its file to the job route itself.
 * The test that opens the circuit breaker runs last.
 */
@CamelMainTest(replaceRouteFromWith = "intake=direct:intake-off")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class JobRoutesTest {

    private static final String OK = "{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"num_turns\":1,"
            + "\"result\":\"done\",\"structured_output\":{\"summary\":\"read %s\",\"tags\":[\"scripted\"]},"
            + "\"session_id\":\"s-1\",\"total_cost_usd\":0.01,\"usage\":{\"input_tokens\":10,\"output_tokens\":5}}";
    private static final String SCHEMA_MISMATCH = "{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,"
            + "\"num_turns\":1,\"result\":\"done\",\"structured_output\":{\"summary\":42}}";
    private static final String API_ERROR = "{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":true,"
            + "\"api_error_status\":%d,\"num_turns\":1,\"result\":\"%s\"}";

    private final Workdir work;
    private final SandflowConfig config;
    private final Node node;
    private final SandflowConfiguration camel;

    @BeanInject
    CamelContext context;

    @EndpointInject("direct:job")
    ProducerTemplate jobs;

    /** The agent, scripted per input: each call takes the next answer of its input's script. */
    @ReplaceInRegistry
    AgentExec.Executor agentExecutor = new ScriptedAgent();

    private final Map<String, Deque<Answer>> scripts = new ConcurrentHashMap<>();
    private final Map<String, List<String>> prompts = new ConcurrentHashMap<>();

    /** What the scripted agent does for one call: its stdout and exit code, and what else happens meanwhile. */
    private record Answer(String stdout, int exit, Runnable meanwhile) {
    }

    JobRoutesTest() throws IOException {
        work = new Workdir(Files.createTempDirectory("sandflow-job-routes"));
        work.set("sandflow.workers", "1").set("sandflow.retry.backoff.initial", "1s")
                .set("sandflow.retry.backoff.max", "1s").set("sandflow.retry.backoff.jitter", "0");
        config = SandflowConfig.of(Settings.of(work.root, work.settings));
        node = new Node(config).open();
        camel = new SandflowConfiguration(config, node);
    }

    @Configure
    protected void configure(MainConfigurationProperties configuration) {
        configuration.addConfiguration(camel);
        configuration.withRoutesIncludePattern("file:routes/*.camel.yaml");
    }

    @AfterAll
    void close() throws Exception {
        context.stop();
        node.close();
        try (var files = Files.walk(work.root)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void aUsableAnswerIsPublishedOnceAndTheInputArchived() throws IOException {
        script("ok.json", ok("ok.json"));

        run("ok.json");

        assertThat(work.json(work.outbox().resolve("ok.result.json")).path("summary").asText()).isEqualTo("read ok.json");
        assertThat(work.archive().resolve("ok.json")).exists();
        assertThat(row("ok.json").state()).isEqualTo(JobState.DONE);
        assertThat(row("ok.json").attempts()).isEqualTo(1);
    }

    @Test
    void anUnusableAnswerRunsTheAttemptAgainWithItsProblemsFedBack() throws IOException {
        script("iffy.json", answer(SCHEMA_MISMATCH, 0), ok("iffy.json"));

        run("iffy.json");

        assertThat(work.outbox().resolve("iffy.result.json")).exists();
        assertThat(row("iffy.json").attempts()).isEqualTo(2);
        assertThat(prompts.get("iffy.json")).hasSize(2);
        assertThat(prompts.get("iffy.json").get(1)).contains("/summary");
        List<AttemptRecord> history = node.store().attempts(row("iffy.json").id());
        assertThat(history).extracting(AttemptRecord::failureClass).containsExactly(FailureClass.INVALID_OUTPUT, null);
    }

    @Test
    void aTransientFailureWaitsOutItsBackoffWithoutItsWorkerThenRunsAgain() throws IOException {
        script("busy.json", answer(String.format(API_ERROR, 429, "API Error: 429 rate limited"), 1), ok("busy.json"));
        run("busy.json");

        assertThat(work.outbox().resolve("busy.result.json")).as("not yet: the job waits out its backoff").doesNotExist();
        assertThat(work.inbox().resolve("busy.json")).exists();
        assertThat(row("busy.json").state()).isEqualTo(JobState.PENDING);
        assertThat(node.pool().busy()).as("the worker is free meanwhile").isZero();
        await("the retries route runs it when due").atMost(Duration.ofSeconds(15))
                .until(() -> Files.exists(work.outbox().resolve("busy.result.json")));
        assertThat(node.store().attempts(row("busy.json").id())).extracting(AttemptRecord::failureClass)
                .containsExactly(FailureClass.TRANSIENT, null);
    }

    @Test
    @Order(Integer.MAX_VALUE)
    void aSystemicFailureParksTheJobAndOpensTheBreaker() throws IOException {
        script("auth.json", answer(String.format(API_ERROR, 401, "Invalid API key"), 1));

        run("auth.json");

        assertThat(row("auth.json").state()).isEqualTo(JobState.PARKED);
        assertThat(work.inbox().resolve("auth.json")).exists();
        assertThat(work.failed().resolve("auth.json")).doesNotExist();
        assertThat(work.outbox().resolve("auth.result.json")).doesNotExist();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(node.store().getState("breaker"))
                .hasValueSatisfying(s -> assertThat(s).startsWith("OPEN")));
    }

    @Test
    void aPermanentFailureMovesTheInputToFailedWithItsReport() throws IOException {
        script("bad.json", answer(String.format(API_ERROR, 400, "API Error: 400 prompt is too long"), 1));

        run("bad.json");

        assertThat(row("bad.json").state()).isEqualTo(JobState.FAILED);
        assertThat(work.failed().resolve("bad.json")).exists();
        assertThat(work.report("bad.json").path("class").asText()).isEqualTo("permanent");
        assertThat(work.report("bad.json").path("reason").asText()).contains("400");
        assertThat(work.outbox().resolve("bad.result.json")).doesNotExist();
    }

    @Test
    void aNodeWhoseClaimWasTakenOverPublishesNothing() throws IOException {
        // While the agent runs, another claim takes the job: this node's fence token is no longer the job's
        script("lost.json", answer(String.format(OK, "lost.json"), 0, () -> bumpFence("lost.json")));

        run("lost.json");

        assertThat(work.outbox().resolve("lost.result.json")).as("the result is dropped").doesNotExist();
        assertThat(work.inbox().resolve("lost.json")).as("the input stays for the claim's holder").exists();
        assertThat(work.failed().resolve("lost.json")).doesNotExist();
    }

    /**
     * The store fails just as a valid result's attempt is recorded: that is Sandflow's fault, not the agent's. The job
     * waits in the inbox with intake held for the store; it is not judged as a failed agent run, which would spend a
     * retry and, on the last one, move the input to failed/.
     */
    @Test
    @Order(Integer.MAX_VALUE - 1)
    void aStoreFaultAfterAValidAnswerIsTheStoresNotTheAttempts() throws Exception {
        script("blip.json", answer(String.format(OK, "blip.json"), 0, () -> sql(
                "ALTER TABLE sandflow_attempts RENAME TO sandflow_attempts_away")), ok("blip.json"));
        try {
            run("blip.json");

            assertThat(camel.gate().holds()).extracting(IntakeGate.Hold::cause).contains("store");
            assertThat(row("blip.json").lastError()).as("no failed attempt recorded").isNull();
            assertThat(work.inbox().resolve("blip.json")).exists();
            assertThat(work.failed().resolve("blip.json")).doesNotExist();
        } finally {
            sql("ALTER TABLE sandflow_attempts_away RENAME TO sandflow_attempts");
        }
        await("intake resumes once the store works").atMost(Duration.ofSeconds(20))
                .until(() -> camel.gate().holds().stream().noneMatch(h -> h.cause().equals("store")));
    }

    @Test
    void theSameContentAgainIsADuplicateAndIsArchivedWithoutRunning() throws IOException {
        script("twice.json", ok("twice.json"));
        run("twice.json");
        Files.move(work.archive().resolve("twice.json"), work.inbox().resolve("twice.json"));

        run("twice.json");

        assertThat(prompts.get("twice.json")).as("agent calls").hasSize(1);
        assertThat(work.inbox().resolve("twice.json")).doesNotExist();
        assertThat(work.names(work.archive())).as("archived again").contains("twice.json");
    }

    /** Drops the input and hands it to the job route, as the intake would, and waits for its exchange to end. */
    private void run(String name) throws IOException {
        Path file = work.inbox().resolve(name);
        if (!Files.exists(file)) {
            work.ask(name, "scripted");
        }
        jobs.sendBodyAndHeader(null, JobSteps.FILE, file.toAbsolutePath().toString());
    }

    private void script(String name, Answer... answers) {
        scripts.put(name, new ArrayDeque<>(List.of(answers)));
    }

    private static Answer ok(String name) {
        return answer(String.format(OK, name), 0);
    }

    private static Answer answer(String stdout, int exit) {
        return answer(stdout, exit, () -> { });
    }

    private static Answer answer(String stdout, int exit, Runnable meanwhile) {
        return new Answer(stdout, exit, meanwhile);
    }

    private JobRecord row(String name) {
        return node.store().find(new JobKey(name, sha256(work.inbox().resolve(name), work.archive().resolve(name),
                work.failed().resolve(name)))).orElseThrow();
    }

    private static String sha256(Path... candidates) {
        for (Path p : candidates) {
            if (Files.exists(p)) {
                try {
                    return JobKey.sha256(Files.readAllBytes(p));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        throw new IllegalStateException("no copy of the input");
    }

    /** Another claim of the job, as a node that took it over would make it. */
    private void bumpFence(String name) {
        assertThat(sql("UPDATE sandflow_jobs SET fence_token = fence_token + 1 WHERE name = '" + name + "'"))
                .isEqualTo(1);
    }

    private int sql(String statement) {
        try (Connection c = DriverManager.getConnection(config.store().url());
             PreparedStatement s = c.prepareStatement(statement)) {
            return s.executeUpdate();
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Answers each call from its input's script, in-process, and keeps the prompt it was given. */
    private final class ScriptedAgent extends AgentExec.Executor {

        ScriptedAgent() {
            super(null);
        }

        @Override
        public ExecResult execute(ExecCommand command) {
            var spec = ((AgentExec.Command) command).spec();
            String name = spec.environment().get("SANDFLOW_JOB_NAME");
            prompts.computeIfAbsent(name, n -> new ArrayList<>()).add(new String(spec.stdin(), StandardCharsets.UTF_8));
            Answer a = scripts.get(name).poll();
            assertThat(a).as("an answer scripted for %s", name).isNotNull();
            a.meanwhile().run();
            byte[] out = a.stdout().getBytes(StandardCharsets.UTF_8);
            return new AgentExec.Result(command, new ProcessOutcome(a.exit(), false, out, false, out.length,
                    a.stdout(), "", Duration.ofMillis(5), 0));
        }
    }
}
