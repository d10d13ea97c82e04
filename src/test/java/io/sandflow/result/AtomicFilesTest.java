package io.sandflow.result;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class AtomicFilesTest {

    @TempDir
    Path dir;

    private List<String> names(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void writeOnceWritesWholeAndLeavesNoTemp() throws Exception {
        Path target = dir.resolve("ملف النتيجة.result.json");
        assertThat(AtomicFiles.writeOnce(target, utf8("{\"a\":\"ب\"}\n"))).isTrue();
        assertThat(Files.readString(target)).isEqualTo("{\"a\":\"ب\"}\n");
        assertThat(names(dir)).containsExactly("ملف النتيجة.result.json");
    }

    @Test
    void writeOnceRefusesToOverwrite() throws Exception {
        Path target = dir.resolve("out.json");
        Files.writeString(target, "first");
        assertThat(AtomicFiles.writeOnce(target, utf8("second"))).isFalse();
        assertThat(Files.readString(target)).isEqualTo("first");
        assertThat(names(dir)).containsExactly("out.json");
    }

    @Test
    void writeReplacingReplacesAndLeavesNoTemp() throws Exception {
        Path target = dir.resolve("report.json");
        AtomicFiles.writeReplacing(target, utf8("one"));
        AtomicFiles.writeReplacing(target, utf8("two"));
        assertThat(Files.readString(target)).isEqualTo("two");
        assertThat(names(dir)).containsExactly("report.json");
    }

    @Test
    void moveIntoKeepsTheNameWhenFree() throws Exception {
        Path inbox = Files.createDirectory(dir.resolve("inbox"));
        Path archive = Files.createDirectory(dir.resolve("archive"));
        Path file = Files.writeString(inbox.resolve("a b $(x).json"), "x");
        Path moved = AtomicFiles.moveInto(file, archive);
        assertThat(moved).isEqualTo(archive.resolve("a b $(x).json"));
        assertThat(Files.readString(moved)).isEqualTo("x");
        assertThat(file).doesNotExist();
    }

    @Test
    void moveIntoAddsASuffixInsteadOfOverwriting() throws Exception {
        Path inbox = Files.createDirectory(dir.resolve("inbox"));
        Path failed = Files.createDirectory(dir.resolve("failed"));
        Files.writeString(failed.resolve("data.json"), "old");
        Files.writeString(failed.resolve("data-1.json"), "older");
        Path moved = AtomicFiles.moveInto(Files.writeString(inbox.resolve("data.json"), "new"), failed);
        assertThat(moved.getFileName().toString()).isEqualTo("data-2.json");
        assertThat(Files.readString(failed.resolve("data.json"))).isEqualTo("old");
        assertThat(Files.readString(moved)).isEqualTo("new");
        assertThat(names(inbox)).isEmpty();
    }

    @Test
    void aNumberedNameStaysWithinTheFileSystemsLimit() throws Exception {
        Path inbox = Files.createDirectory(dir.resolve("inbox"));
        Path archive = Files.createDirectory(dir.resolve("archive"));
        String name = "ع".repeat(125) + ".json";
        AtomicFiles.moveInto(Files.writeString(inbox.resolve(name), "one"), archive);
        Path second = AtomicFiles.moveInto(Files.writeString(inbox.resolve(name), "two"), archive);

        assertThat(second.getFileName().toString()).endsWith("-1.json");
        assertThat(second.getFileName().toString().getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(255);
        assertThat(Files.readString(second)).isEqualTo("two");
        assertThat(Files.readString(archive.resolve(name))).isEqualTo("one");
    }

    @Test
    void replaceSwapsTheResultInOneStepAndKeepsThePreviousOne() throws Exception {
        Path outbox = Files.createDirectory(dir.resolve("outbox"));
        Path target = Files.writeString(outbox.resolve("a.result.json"), "old");
        Object seen = AtomicFiles.fileKey(target);
        Instant now = Instant.parse("2025-06-01T12:00:00Z");

        AtomicFiles.Replacement done = AtomicFiles.replace(target, utf8("new"), seen, outbox.resolve(".previous"), now);

        assertThat(done.published()).isTrue();
        assertThat(Files.readString(target)).isEqualTo("new");
        assertThat(done.kept()).isEqualTo(outbox.resolve(".previous/a.result.20250601T120000Z.json"));
        assertThat(Files.readString(done.kept())).isEqualTo("old");
        assertThat(names(outbox)).containsExactly(".previous", "a.result.json");
    }

    @Test
    void replacementsWithinOneSecondKeepEveryPreviousResult() throws Exception {
        Path outbox = Files.createDirectory(dir.resolve("outbox"));
        Path target = Files.writeString(outbox.resolve("a.result.json"), "one");
        Path keep = outbox.resolve(".previous");
        Instant now = Instant.parse("2025-06-01T12:00:00Z");

        AtomicFiles.replace(target, utf8("two"), AtomicFiles.fileKey(target), keep, now);
        AtomicFiles.replace(target, utf8("three"), AtomicFiles.fileKey(target), keep, now);

        assertThat(names(keep)).containsExactly("a.result.20250601T120000Z-1.json", "a.result.20250601T120000Z.json");
        assertThat(Files.readString(keep.resolve("a.result.20250601T120000Z.json"))).isEqualTo("one");
        assertThat(Files.readString(keep.resolve("a.result.20250601T120000Z-1.json"))).isEqualTo("two");
        assertThat(Files.readString(target)).isEqualTo("three");
    }

    @Test
    void replaceLeavesAResultThatIsNotTheOneExpected() throws Exception {
        // What a node that lost its claim finds: the node that took the job over published meanwhile
        Path outbox = Files.createDirectory(dir.resolve("outbox"));
        Path target = Files.writeString(outbox.resolve("a.result.json"), "old");
        Object seen = AtomicFiles.fileKey(target);
        AtomicFiles.writeReplacing(target, utf8("the other node's"));

        AtomicFiles.Replacement done = AtomicFiles.replace(target, utf8("stale"), seen, outbox.resolve(".previous"),
                Instant.now());

        assertThat(done.published()).isFalse();
        assertThat(Files.readString(target)).isEqualTo("the other node's");
        assertThat(names(outbox)).containsExactly("a.result.json");
    }

    @Test
    void replaceWithNothingThereWritesOnce() throws Exception {
        Path outbox = Files.createDirectory(dir.resolve("outbox"));
        Path target = outbox.resolve("a.result.json");

        AtomicFiles.Replacement done = AtomicFiles.replace(target, utf8("new"), "gone", outbox.resolve(".previous"),
                Instant.now());

        assertThat(done.published()).isTrue();
        assertThat(done.kept()).isNull();
        assertThat(Files.readString(target)).isEqualTo("new");
    }

    @Test
    void suffixGoesBeforeTheLastExtension() {
        assertThat(AtomicFiles.withSuffix("x.result.json", 3)).isEqualTo("x.result-3.json");
        assertThat(AtomicFiles.withSuffix("README", 1)).isEqualTo("README-1");
        assertThat(AtomicFiles.withSuffix(".hidden", 1)).isEqualTo(".hidden-1");
    }
}
