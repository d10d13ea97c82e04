package io.sandflow.flow;

import io.sandflow.config.SandflowConfig;
import io.sandflow.config.Settings;
import io.sandflow.job.JobState;
import io.sandflow.store.JobRecord;
import org.apache.camel.BeanInject;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.NotifyBuilder;
import org.apache.camel.main.MainConfigurationProperties;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.apache.camel.test.main.junit5.Configure;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Boots the shipped routes with Camel's own test support for Camel Main, and checks the flow's shape (stable route
 * and step ids) and one job from inbox to outbox with its ledger row.
 */
@CamelMainTest
class RoutesCamelMainTest {

    private static final Workdir WORK = newWorkdir();
    private static Node node;

    @BeanInject
    CamelContext context;

    private static Workdir newWorkdir() {
        try {
            return new Workdir(Files.createTempDirectory("sandflow-camel-main-test"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Configure
    protected void configure(MainConfigurationProperties configuration) throws IOException {
        WORK.set("sandflow.workers", "1");
        SandflowConfig config = SandflowConfig.of(Settings.of(WORK.root, WORK.settings));
        if (node == null) {
            node = new Node(config).open();
        }
        configuration.addConfiguration(new SandflowConfiguration(config, node));
        configuration.withRoutesIncludePattern("file:routes/*.camel.yaml");
    }

    @AfterAll
    static void closeStore() throws Exception {
        if (node != null) {
            node.close();
        }
    }

    @Test
    void everyRouteAndExternalStepHasAStableId() {
        assertThat(context.getRoutes()).extracting(r -> r.getRouteId())
                .containsExactlyInAnyOrder("intake", "inbox-survey", "retries", "dispatch", "attempt", "publish", "fail", "housekeeping",
                        "observe");
        var model = ((org.apache.camel.model.ModelCamelContext) context);
        String attempt = model.getRouteDefinition("attempt").toString();
        assertThat(context.getProcessor("run-agent")).as("the agent call").isNotNull();
        assertThat(context.getProcessor("agent-breaker")).as("the circuit breaker").isNotNull();
        assertThat(context.getProcessor("agent-rate")).as("the rate limit").isNotNull();
        assertThat(context.getProcessor("write-result")).isNotNull();
        for (String step : new String[] {"admit-job", "once-per-content", "claim-job", "claim-outcome", "run-attempt",
                "check-budget", "validate-result", "judge-attempt", "claim-held", "report-json"}) {
            assertThat(context.getProcessor(step)).as(step).isNotNull();
        }
        assertThat(context.getProcessor("survey-inbox")).as("the inbox survey").isNotNull();
        assertThat(attempt).contains("exec:sandflow-agent");
    }

    @Test
    void aDroppedFileBecomesAValidatedResultAndALedgerRow() throws IOException {
        NotifyBuilder published = new NotifyBuilder(context).fromRoute("intake").whenCompleted(1).create();

        WORK.ask("camel-main.json", "success");

        assertThat(published.matches(20, TimeUnit.SECONDS)).isTrue();
        Path result = WORK.outbox().resolve("camel-main.result.json");
        await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(WORK.archive().resolve("camel-main.json")));
        assertThat(WORK.json(result).path("summary").asText()).contains("camel-main.json");
        JobRecord row = node.store().findByName("camel-main.json").get(0);
        assertThat(row.state()).isEqualTo(JobState.DONE);
        assertThat(row.attempts()).isEqualTo(1);
        assertThat(row.owner()).as("the node that ran it").isEqualTo(node.nodeId());
    }
}
