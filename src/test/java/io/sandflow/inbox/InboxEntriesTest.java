package io.sandflow.inbox;

import io.sandflow.cli.Sandflow;
import io.sandflow.flow.LogCapture;
import io.sandflow.flow.Workdir;
import io.sandflow.job.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sandflow.job.JobState;
import io.sandflow.store.JobRecord;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every inbox entry ends somewhere: odd entries (FIFOs, sockets, devices, directories named like inputs) are left
 * alone, never opened, never waited on and warned about once; odd names are processed or failed with a reason;
 * two inputs never share one output; symbolic links are followed only inside the inbox.
 */
@Tag("process")
class InboxEntriesTest {

    private static final ObjectMapper JSON = Json.MAPPER;
    private static final String OK = "{\"standin\": \"success\"}\n";

    @TempDir
    Path dir;
    Workdir work;

    @BeforeEach
    void setUp() throws IOException {
        work = new Workdir(dir);
    }

    // A FIFO opened for reading blocks until a writer comes: were it opened, this would never return
    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void fifoSocketDeviceAndDirectoryAreLeftAloneUncountedAndWarnedOnce() throws Exception {
        work.ask("good.json", "success");
        // a second long enough for many polls (every 100 ms) to meet the odd entries
        work.ask("slow.json", "slow");
        Path inbox = work.inbox();
        run("mkfifo", inbox.resolve("pipe.json").toString());
        Files.createDirectory(inbox.resolve("folder.json"));
        Files.writeString(inbox.resolve("folder.json").resolve("inner.json"), OK);
        try (ServerSocketChannel socket = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            socket.bind(UnixDomainSocketAddress.of(inbox.resolve("sock.json")));
        }
        List<String> odd = new ArrayList<>(List.of("pipe.json", "folder.json", "sock.json"));
        // a character device needs CAP_MKNOD (root here, as in CI); elsewhere the other three stand for it
        if (new ProcessBuilder("mknod", inbox.resolve("null.json").toString(), "c", "1", "3").start().waitFor() == 0) {
            odd.add("null.json");
        }

        int exit;
        List<String> warnings = new ArrayList<>();
        List<String> okLines;
        try (LogCapture log = new LogCapture()) {
            exit = work.runOnce();
            for (String name : odd) {
                warnings.addAll(log.warnings(name));
                assertThat(log.warnings(name)).as("warnings about " + name).hasSize(1);
            }
            okLines = log.texts().stream().filter(l -> l.contains("] ok ")).toList();
        }

        assertThat(exit).isZero();
        assertThat(work.names(work.outbox())).containsExactly("good.result.json", "slow.result.json");
        assertThat(work.names(inbox)).containsExactlyInAnyOrderElementsOf(odd);
        assertThat(inbox.resolve("folder.json").resolve("inner.json")).exists();
        assertThat(okLines).hasSize(2);
        assertThat(okLines.get(1)).contains("[2/2]").contains("pending 0");
        JsonNode status = JSON.readTree(status());
        assertThat(status.path("inboxFiles").asLong()).isZero();
        assertThat(status.path("remaining").asLong()).isZero();
    }

    @Test
    void namesWithLineBreaksBackslashesOrALeadingDotAreProcessed() throws IOException {
        List<String> names = List.of("line\nbreak.json", "carriage\rreturn.json", ".hidden.json");
        for (String name : names) {
            work.drop(name, OK);
        }
        // Camel's file consumer reads a backslash as a folder separator: the file is renamed, and says so
        work.drop("back\\slash.json", OK);

        int exit;
        List<String> warnings;
        try (LogCapture log = new LogCapture()) {
            exit = work.runOnce();
            warnings = log.warnings("back%5Cslash.json");
        }

        assertThat(exit).isZero();
        assertThat(allNames(work.outbox())).containsExactlyInAnyOrder("line\nbreak.result.json",
                "carriage\rreturn.result.json", "back%5Cslash.result.json", ".hidden.result.json");
        assertThat(allNames(work.archive())).containsExactlyInAnyOrder("line\nbreak.json", "carriage\rreturn.json",
                ".hidden.json", "back%5Cslash.json");
        assertThat(allNames(work.inbox())).isEmpty();
        assertThat(warnings).singleElement().asString().contains("back\\slash.json").contains("backslash");
    }

    @Test
    void aNameThatIsNotUtf8IsRenamedThenProcessed() throws Exception {
        // Latin-1 "café.json", as a file copied from an older system arrives; Java sees the byte E9 as U+FFFD
        run("/bin/sh", "-c", "printf '%s' \"$1\" > \"$2/$(printf 'caf\\351.json')\"", "sh", OK,
                work.inbox().toString());
        assertThat(allNames(work.inbox())).containsExactly("caf\uFFFD.json");

        int exit;
        List<String> warnings;
        try (LogCapture log = new LogCapture()) {
            exit = work.runOnce();
            warnings = log.warnings("caf%E9.json");
        }

        assertThat(exit).isZero();
        assertThat(allNames(work.outbox())).containsExactly("caf%E9.result.json");
        assertThat(allNames(work.archive())).containsExactly("caf%E9.json");
        assertThat(allNames(work.inbox())).isEmpty();
        assertThat(warnings).singleElement().asString().contains("not valid UTF-8").contains("e9");
        assertThat(work.ledger("caf%E9.json")).singleElement().extracting(JobRecord::state)
                .isEqualTo(JobState.DONE);
    }

    /** A node that linked the new name and died before removing the old one: the next survey finishes the rename. */
    @Test
    void aRenameLeftHalfDoneIsFinishedAndTheInputRunsOnce() throws Exception {
        run("/bin/sh", "-c", "printf '%s' \"$1\" > \"$2/$(printf 'caf\\351.json')\" && ln \"$2/$(printf 'caf\\351.json')\" "
                + "\"$2/caf%E9.json\"", "sh", OK, work.inbox().toString());
        assertThat(allNames(work.inbox())).containsExactlyInAnyOrder("caf\uFFFD.json", "caf%E9.json");

        assertThat(work.runOnce()).isZero();

        assertThat(allNames(work.inbox())).isEmpty();
        assertThat(allNames(work.outbox())).containsExactly("caf%E9.result.json");
        assertThat(allNames(work.archive())).containsExactly("caf%E9.json");
        assertThat(work.agentCalls("caf%E9.json")).isEqualTo(1);
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void overlongOutputAndReportNamesAreShortenedNeverLooped() throws IOException {
        // 249 and 245 bytes in UTF-8 (two bytes a letter): the result name of the first and the report name of
        // the second would pass the file system's 255
        String succeeds = "م".repeat(122) + ".json";
        String fails = "ب".repeat(120) + ".json";
        work.ask(succeeds, "success");
        work.ask(fails, "bad-request");

        int exit;
        List<String> lines;
        try (LogCapture log = new LogCapture()) {
            exit = work.runOnce();
            lines = log.texts();
        }

        assertThat(exit).isEqualTo(1);
        List<String> outputs = allNames(work.outbox());
        assertThat(outputs).singleElement().satisfies(n -> {
            assertThat(bytes(n)).isLessThanOrEqualTo(255);
            assertThat(n).startsWith("م".repeat(100)).endsWith(".result.json");
        });
        assertThat(work.ledger(succeeds)).singleElement().extracting(JobRecord::outputName)
                .isEqualTo(outputs.get(0));
        assertThat(lines).anyMatch(l -> l.contains(outputs.get(0)));
        assertThat(work.agentCalls(succeeds)).isEqualTo(1);

        assertThat(work.failed().resolve(fails)).exists();
        List<String> reports = allNames(work.failed()).stream().filter(n -> n.endsWith(".error.json")).toList();
        assertThat(reports).singleElement().satisfies(n -> assertThat(bytes(n)).isLessThanOrEqualTo(255));
        JsonNode report = work.json(work.failed().resolve(reports.get(0)));
        assertThat(report.path("file").asText()).isEqualTo(fails);
        assertThat(report.path("reportName").asText()).isEqualTo(reports.get(0));
        assertThat(report.path("reason").asText()).contains("400");
        assertThat(lines).anyMatch(l -> l.contains(reports.get(0)));
        assertThat(work.agentCalls(fails)).isEqualTo(1);
        assertThat(allNames(work.inbox())).isEmpty();
    }

    @Test
    void twoInputsWithOneResultNameNeverWasteARun() throws IOException {
        // The include pattern ignores case, so both are inputs, and both would be named a.result.json
        work.ask("a.json", "success");
        work.ask("a.JSON", "success");

        assertThat(work.runOnce()).isEqualTo(1);

        assertThat(work.names(work.outbox())).containsExactly("a.result.json");
        String winner = work.json(work.outbox().resolve("a.result.json")).path("summary").asText()
                .contains("a.json") ? "a.json" : "a.JSON";
        String loser = winner.equals("a.json") ? "a.JSON" : "a.json";
        assertThat(work.archive().resolve(winner)).exists();
        assertThat(work.failed().resolve(loser)).exists();
        String reason = work.report(loser).path("reason").asText();
        assertThat(reason).contains("a.result.json").contains(winner);
        assertThat(work.agentCalls(winner) + work.agentCalls(loser)).isEqualTo(1);
        assertThat(work.ledger(loser)).singleElement().extracting(JobRecord::state).isEqualTo(JobState.FAILED);
    }

    @Test
    void anInputWhoseResultNameIsAnotherInputsFailsBeforeItRuns() throws IOException {
        work.set("sandflow.include", ".*\\.(json|txt)");
        work.ask("a.json", "success");
        assertThat(work.runOnce()).isZero();
        byte[] first = Files.readAllBytes(work.outbox().resolve("a.result.json"));

        work.ask("a.txt", "arabic");
        assertThat(work.runOnce()).isEqualTo(1);

        assertThat(Files.readAllBytes(work.outbox().resolve("a.result.json"))).isEqualTo(first);
        assertThat(work.failed().resolve("a.txt")).exists();
        assertThat(work.report("a.txt").path("reason").asText()).contains("a.result.json").contains("a.json");
        assertThat(work.agentCalls("a.txt")).isZero();
    }

    @Test
    void linksAreFollowedOnlyToFilesInsideTheInbox() throws IOException {
        Path outside = Files.createDirectories(dir.resolve("outside"));
        String secret = "{\"standin\": \"success\", \"secret\": \"TOPSECRET\"}\n";
        Path secretFile = Files.writeString(outside.resolve("secret.json"), secret);
        Path inbox = work.inbox();
        work.ask("target.json", "success");
        Files.createSymbolicLink(inbox.resolve("inside.json"), Path.of("target.json"));
        Files.createSymbolicLink(inbox.resolve("outside.json"), secretFile);
        Files.createSymbolicLink(inbox.resolve("dangling.json"), Path.of("nowhere.json"));
        Files.createSymbolicLink(inbox.resolve("outdir.json"), outside);

        assertThat(work.runOnce()).isEqualTo(1);

        assertThat(work.names(work.outbox())).containsExactlyInAnyOrder("target.result.json", "inside.result.json");
        for (String refused : List.of("outside.json", "dangling.json", "outdir.json")) {
            assertThat(Files.isSymbolicLink(work.failed().resolve(refused))).as(refused).isTrue();
            assertThat(work.report(refused).path("reason").asText()).as(refused).contains("symbolic link")
                    .contains("sandflow.intake.follow-links");
            assertThat(work.agentCalls(refused)).isZero();
            assertThat(work.ledger(refused)).singleElement().extracting(JobRecord::state)
                    .isEqualTo(JobState.FAILED);
        }
        assertThat(Files.readString(secretFile)).isEqualTo(secret);
        try (Stream<Path> prompts = Files.list(work.state)) {
            for (Path p : prompts.toList()) {
                assertThat(Files.readString(p, StandardCharsets.UTF_8)).doesNotContain("TOPSECRET");
            }
        }
        assertThat(allNames(inbox)).isEmpty();
    }

    @Test
    void followLinksAnyReadsOutsideTargetsAndNeverRefusesEveryLink() throws IOException {
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Path far = Files.writeString(outside.resolve("far.json"), OK);
        work.set("sandflow.intake.follow-links", "any");
        Files.createSymbolicLink(work.inbox().resolve("far.json"), far);
        assertThat(work.runOnce()).isZero();
        assertThat(work.names(work.outbox())).containsExactly("far.result.json");

        work.set("sandflow.intake.follow-links", "never");
        work.ask("near.json", "success");
        Files.createSymbolicLink(work.inbox().resolve("alias.json"), Path.of("near.json"));
        assertThat(work.runOnce()).isEqualTo(1);
        assertThat(work.names(work.outbox())).containsExactlyInAnyOrder("far.result.json", "near.result.json");
        assertThat(Files.isSymbolicLink(work.failed().resolve("alias.json"))).isTrue();
        assertThat(work.report("alias.json").path("reason").asText()).contains("sandflow.intake.follow-links=never");
    }

    private String status() {
        List<String> args = new ArrayList<>(List.of("-C", dir.toString()));
        work.settings.forEach((k, v) -> args.add("-D" + k + "=" + v));
        args.addAll(List.of("status", "--json"));
        StringWriter out = new StringWriter();
        assertThat(Sandflow.execute(new PrintWriter(out), args.toArray(String[]::new))).isZero();
        return out.toString();
    }

    /** Every entry's name, hidden ones included, as Java decodes it. */
    private static List<String> allNames(Path folder) throws IOException {
        if (!Files.isDirectory(folder, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".sandflow-")).sorted()
                    .toList();
        }
    }

    private static int bytes(String name) {
        return name.getBytes(StandardCharsets.UTF_8).length;
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(String.join(" ", command) + ": " + out).isZero();
    }
}
