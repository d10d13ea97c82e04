package io.sandflow.inbox;


import io.sandflow.inbox.InboxEntries.Kind;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** What {@link InboxEntries} makes of each kind of entry, name and link, without running anything. */
class InboxEntryKindsTest {

    @TempDir
    Path dir;
    Path inbox;
    InboxEntries entries;

    @BeforeEach
    void setUp() throws IOException {
        inbox = Files.createDirectory(dir.resolve("inbox"));
        entries = new InboxEntries(inbox, ".*\\.json", FollowLinks.INSIDE);
    }

    @Test
    void theIncludePatternIgnoresCaseAndMatchesAcrossLineBreaks() {
        assertThat(entries.included("a.json")).isTrue();
        assertThat(entries.included("A.JSON")).isTrue();
        assertThat(entries.included("two\nlines.json")).isTrue();
        assertThat(entries.included("a.json.tmp")).isFalse();
    }

    @Test
    void aFileIsAnInputAndEverythingElseIsToldApart() throws Exception {
        Files.writeString(inbox.resolve("a.json"), "{}");
        Files.writeString(inbox.resolve("notes.txt"), "x");
        Files.createDirectory(inbox.resolve("folder.json"));
        Process mkfifo = new ProcessBuilder("mkfifo", inbox.resolve("pipe.json").toString()).start();
        assertThat(mkfifo.waitFor()).isZero();

        assertThat(kind("a.json")).isEqualTo(Kind.INPUT);
        assertThat(kind("notes.txt")).isEqualTo(Kind.IGNORED);
        assertThat(kind("gone.json")).isEqualTo(Kind.GONE);
        assertThat(entries.classify(inbox.resolve("folder.json")))
                .extracting(InboxEntries.Entry::kind, InboxEntries.Entry::why)
                .containsExactly(Kind.NEVER, "a directory");
        assertThat(entries.classify(inbox.resolve("pipe.json")))
                .extracting(InboxEntries.Entry::kind, InboxEntries.Entry::why)
                .containsExactly(Kind.NEVER, "a FIFO (named pipe)");
        assertThat(entries.countWaitingExactly()).isEqualTo(1);
    }

    @Test
    void aLinkIsFollowedOnlyToAFileWhoseRealPathIsInTheInbox() throws IOException {
        Path target = Files.writeString(inbox.resolve("target.json"), "{}");
        Path outside = Files.writeString(dir.resolve("outside.json"), "{}");
        Files.createDirectory(inbox.resolve("sub"));
        Files.createSymbolicLink(inbox.resolve("inside.json"), Path.of("target.json"));
        // a link to a link inside the inbox that leads outside it
        Files.createSymbolicLink(inbox.resolve("hop.json"), outside);
        Files.createSymbolicLink(inbox.resolve("via.json"), Path.of("hop.json"));
        Files.createSymbolicLink(inbox.resolve("loop.json"), Path.of("loop.json"));
        Files.createSymbolicLink(inbox.resolve("subdir.json"), Path.of("sub"));

        InboxEntries.Entry inside = entries.classify(inbox.resolve("inside.json"));
        assertThat(inside.kind()).isEqualTo(Kind.INPUT);
        assertThat(inside.source()).isEqualTo(target.toRealPath());
        assertThat(kind("hop.json")).isEqualTo(Kind.REFUSED);
        assertThat(entries.classify(inbox.resolve("via.json")).why()).contains(outside.toRealPath().toString())
                .contains("outside the inbox").contains("sandflow.intake.follow-links=inside");
        assertThat(kind("loop.json")).isEqualTo(Kind.REFUSED);
        assertThat(kind("subdir.json")).isEqualTo(Kind.NEVER);

        InboxEntries any = new InboxEntries(inbox, ".*\\.json", FollowLinks.ANY);
        assertThat(any.classify(inbox.resolve("via.json")).kind()).isEqualTo(Kind.INPUT);
        InboxEntries never = new InboxEntries(inbox, ".*\\.json", FollowLinks.NEVER);
        assertThat(never.classify(inbox.resolve("inside.json")).kind()).isEqualTo(Kind.REFUSED);
    }

    @Test
    void onlyEntriesNeverProcessedAreLeftOutOfTheCountsOnceNoted() throws Exception {
        Files.writeString(inbox.resolve("a.json"), "{}");
        Files.createDirectory(inbox.resolve("folder.json"));
        assertThat(entries.countWaiting()).as("by name, before the survey").isEqualTo(2);

        assertThat(entries.survey()).isEmpty();

        assertThat(entries.countWaiting()).isEqualTo(1);
        assertThat(entries.anyWaiting()).isTrue();
        Files.delete(inbox.resolve("a.json"));
        assertThat(entries.anyWaiting()).isFalse();
    }

    @Test
    void aFifoReplacedByAFileOfTheSameNameIsWaitedOn() throws Exception {
        Path pipe = inbox.resolve("pipe.json");
        assertThat(new ProcessBuilder("mkfifo", pipe.toString()).start().waitFor()).isZero();
        entries.survey();
        assertThat(entries.anyWaiting()).isFalse();

        Files.delete(pipe);
        Files.writeString(pipe, "{}");

        assertThat(entries.anyWaiting()).isTrue();
    }

    @Test
    void escapingShowsEachUndecodableByteAndEachBackslash() {
        byte[] latin1 = "caf\u00e9.json".getBytes(StandardCharsets.ISO_8859_1);
        assertThat(InboxNames.escape(latin1)).isEqualTo("caf%E9.json");
        assertThat(InboxNames.escape("مدونة.json".getBytes(StandardCharsets.UTF_8))).isEqualTo("مدونة.json");
        assertThat(InboxNames.escape("a\\b.json".getBytes(StandardCharsets.UTF_8))).isEqualTo("a%5Cb.json");
        // a UTF-8 sequence cut short, then valid text
        assertThat(InboxNames.escape(new byte[] {(byte) 0xD9, 'x', '.', 'j'})).isEqualTo("%D9x.j");
    }

    @Test
    void aNameForOneLogLineShowsItsLineBreaks() {
        assertThat(InboxNames.display("a\nb\rc\u0007.json")).isEqualTo("a\\nb\\rc\\u0007.json");
    }

    private Kind kind(String name) {
        return entries.classify(inbox.resolve(name)).kind();
    }
}
