package io.sandflow.flow;

import io.sandflow.cli.Sandflow;
import io.sandflow.job.JobState;
import io.sandflow.store.JobRecord;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A changed input is a new job: it runs again, its result replaces the old one in one step and the old one is kept
 * in outbox/.previous/. An unchanged re-drop is skipped, an output the store never saw still means done, and
 * {@code sandflow rerun} forces a run.
 */
@Tag("process")
class ChangedInputTest {

    @TempDir
    Path dir;
    Workdir work;

    @BeforeEach
    void setUp() throws IOException {
        work = new Workdir(dir);
    }

    @Test
    void aChangedInputRunsAgainAndItsResultReplacesTheOldOneWhichIsKept() throws IOException {
        work.ask("a.json", "success");
        assertThat(work.runOnce()).isZero();
        byte[] first = Files.readAllBytes(result("a.result.json"));

        work.ask("a.json", "arabic");
        assertThat(work.runOnce()).isZero();

        assertThat(work.agentCalls("a.json")).isEqualTo(2);
        assertThat(Files.readString(result("a.result.json"))).containsPattern("\\p{IsArabic}+");
        assertThat(previous()).singleElement().satisfies(p -> {
            assertThat(p.getFileName().toString()).matches("a\\.result\\.\\d{8}T\\d{6}(\\d{3})?Z(-\\d+)?\\.json");
            assertThat(Files.readAllBytes(p)).isEqualTo(first);
        });
        assertThat(work.ledger("a.json")).hasSize(2).allSatisfy(r -> assertThat(r.state()).isEqualTo(JobState.DONE));
        assertThat(work.names(work.archive())).containsExactlyInAnyOrder("a.json", "a-1.json");
        assertThat(work.names(work.inbox())).isEmpty();
    }

    @Test
    void anUnchangedRedropIsSkipped() throws IOException {
        work.ask("a.json", "success");
        assertThat(work.runOnce()).isZero();

        work.ask("a.json", "success");
        assertThat(work.runOnce()).isZero();

        assertThat(work.agentCalls("a.json")).isEqualTo(1);
        assertThat(previous()).isEmpty();
        assertThat(work.names(work.archive())).containsExactlyInAnyOrder("a.json", "a-1.json");
    }

    @Test
    void everyChangeKeepsThePreviousResultAndAnOlderContentIsAChangeToo() throws IOException {
        work.ask("a.json", "success");
        assertThat(work.runOnce()).isZero();
        work.ask("a.json", "arabic");
        assertThat(work.runOnce()).isZero();
        byte[] arabic = Files.readAllBytes(result("a.result.json"));
        // the first content again: the outbox holds the second one's result, so this is a change as well
        work.ask("a.json", "success");
        assertThat(work.runOnce()).isZero();

        assertThat(work.agentCalls("a.json")).isEqualTo(3);
        assertThat(Files.readString(result("a.result.json"))).doesNotContainPattern("\\p{IsArabic}+");
        assertThat(previous()).hasSize(2).anySatisfy(p -> assertThat(Files.readAllBytes(p)).isEqualTo(arabic));
        assertThat(work.names(work.inbox())).isEmpty();
    }

    @Test
    void anOutputTheStoreNeverSawStillMeansDone() throws IOException {
        Files.createDirectories(work.outbox());
        Files.writeString(work.outbox().resolve("a.result.json"), "{\"summary\": \"by hand\", \"tags\": []}");
        work.ask("a.json", "success");

        assertThat(work.runOnce()).isZero();

        assertThat(work.agentCalls("a.json")).isZero();
        assertThat(Files.readString(result("a.result.json"))).contains("by hand");
        assertThat(work.names(work.archive())).containsExactly("a.json");
        assertThat(previous()).isEmpty();
    }

    @Test
    void rerunForcesARunOfInputsInTheArchiveFailedOrTheInbox() throws IOException {
        work.ask("a.json", "success");
        work.ask("b.json", "bad-request");
        assertThat(work.runOnce()).isEqualTo(1);
        byte[] first = Files.readAllBytes(result("a.result.json"));

        StringWriter said = new StringWriter();
        assertThat(cli(said, "rerun", "a.json", "b.json")).isZero();
        assertThat(work.names(work.inbox())).containsExactlyInAnyOrder("a.json", "b.json");
        assertThat(work.failed().resolve("b.json.error.json")).doesNotExist();
        assertThat(said.toString()).contains("a.json").contains("archive").contains("b.json").contains("failed");

        assertThat(work.runOnce()).isEqualTo(1);
        assertThat(work.agentCalls("a.json")).isEqualTo(2);
        assertThat(work.agentCalls("b.json")).isEqualTo(2);
        assertThat(previous()).singleElement().satisfies(p -> assertThat(Files.readAllBytes(p)).isEqualTo(first));
        assertThat(work.failed().resolve("b.json")).exists();

        // an unchanged copy waiting in the inbox would be skipped; named, it runs
        work.ask("a.json", "success");
        assertThat(cli(new StringWriter(), "rerun", "a.json")).isZero();
        assertThat(work.runOnce()).isZero();
        assertThat(work.agentCalls("a.json")).isEqualTo(3);
        assertThat(previous()).hasSize(2);
        assertThat(work.ledger("a.json")).singleElement().extracting(JobRecord::state).isEqualTo(JobState.DONE);
    }

    @Test
    void rerunOfAnUnknownNameSaysSoAndExitsOne() throws IOException {
        work.ask("known.json", "success");
        assertThat(work.runOnce()).isZero();
        StringWriter said = new StringWriter();
        assertThat(cli(said, "rerun", "nowhere.json")).isEqualTo(1);
        assertThat(said.toString()).contains("nowhere.json");
    }

    private Path result(String name) {
        return work.outbox().resolve(name);
    }

    private List<Path> previous() throws IOException {
        Path folder = work.outbox().resolve(".previous");
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(folder)) {
            return files.sorted().toList();
        }
    }

    private int cli(StringWriter out, String... command) {
        List<String> args = new ArrayList<>(List.of("-C", dir.toString()));
        work.settings.forEach((k, v) -> args.add("-D" + k + "=" + v));
        args.addAll(List.of(command));
        PrintWriter writer = new PrintWriter(out);
        int code = Sandflow.execute(writer, args.toArray(String[]::new));
        writer.flush();
        return code;
    }
}
