package io.sandflow.flow;

import com.fasterxml.jackson.databind.JsonNode;
import io.sandflow.job.JobState;
import io.sandflow.store.JobRecord;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code sandflow.agent.contract=plain}, each way docs/AGENT-CONTRACT.md allows: print the result JSON, write it to
 * {@code $SANDFLOW_OUTPUT} and print nothing (or chatter), print an envelope; and what a plain agent that crashes or
 * answers nothing leads to.
 */
@Tag("process")
class PlainContractTest {

    @TempDir
    Path dir;
    Workdir work;

    @BeforeEach
    void setUp() throws IOException {
        work = new Workdir(dir);
        work.set("sandflow.agent.contract", "plain").set("sandflow.retry.max-attempts", "2")
                .set("sandflow.retry.max-invalid-attempts", "2");
    }

    @Test
    void anAgentThatPrintsTheResultJsonSucceeds() throws IOException {
        work.ask("printed.json", "plain-print");

        assertThat(work.runOnce()).isZero();

        assertThat(summary("printed")).contains("printed.json");
        assertThat(work.agentCalls("printed.json")).isEqualTo(1);
    }

    @Test
    void anAgentThatWritesSandflowOutputAndPrintsNothingSucceeds() throws IOException {
        work.ask("written.json", "plain-file");

        assertThat(work.runOnce()).isZero();

        assertThat(summary("written")).contains("written.json");
        assertThat(work.agentCalls("written.json")).as("no retry").isEqualTo(1);
    }

    @Test
    void theOutputFileWinsOverJsonInTheAgentsChatter() throws IOException {
        work.ask("chatty.json", "plain-chatter-file");

        assertThat(work.runOnce()).isZero();

        assertThat(summary("chatty")).contains("chatty.json");
    }

    @Test
    void anEnvelopeIsStillReadUnderThePlainContract() throws IOException {
        work.ask("enveloped.json", "success");

        assertThat(work.runOnce()).isZero();

        assertThat(summary("enveloped")).contains("enveloped.json");
    }

    @Test
    void aPlainAgentThatExitsNonZeroIsRetriedThenFailsWithItsExitCodeAndStderr() throws IOException {
        work.ask("crash.json", "plain-crash");

        assertThat(work.runOnce()).isEqualTo(1);

        assertThat(work.agentCalls("crash.json")).isEqualTo(2);
        JsonNode report = work.report("crash.json");
        assertThat(report.path("reason").asText()).contains("exited with code 3").contains("standin crashed");
        assertThat(report.path("lastAttemptClass").asText()).isEqualTo("transient");
    }

    @Test
    void aPlainAgentThatAnswersNothingIsInvalidOutputNotAnOutage() throws IOException {
        work.ask("silent.json", "empty");

        assertThat(work.runOnce()).isEqualTo(1);

        assertThat(work.agentCalls("silent.json")).isEqualTo(2);
        JsonNode report = work.report("silent.json");
        assertThat(report.path("lastAttemptClass").asText()).isEqualTo("invalid-output");
        assertThat(report.path("reason").asText()).contains("printed no JSON").contains("SANDFLOW_OUTPUT");
        assertThat(work.ledger("silent.json")).singleElement().extracting(JobRecord::state).isEqualTo(JobState.FAILED);
    }

    private String summary(String base) throws IOException {
        assertThat(work.names(work.failed())).isEmpty();
        return work.json(work.outbox().resolve(base + ".result.json")).path("summary").asText();
    }
}
