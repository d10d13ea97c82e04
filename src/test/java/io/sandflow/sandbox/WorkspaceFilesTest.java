package io.sandflow.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What Sandflow does with a workspace an agent has rearranged: it reads only a regular file with one name inside
 * it, and it removes, re-creates and stages without ever following a link to the host's files.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class WorkspaceFilesTest {

    private static final long MAX = 1 << 20;

    @TempDir
    Path dir;

    private Workspace ws;
    private Path host;
    private Path hostFile;

    @BeforeEach
    void layOut() throws IOException {
        ws = new Workspace(1, "w1", dir.resolve("work/worker-1"));
        ws.create();
        host = Files.createDirectories(dir.resolve("host"));
        hostFile = Files.writeString(host.resolve("secret.json"), "{\"summary\":\"the host's\",\"tags\":[]}");
    }

    private Path output() {
        return ws.out().resolve("x.result.json");
    }

    @Test
    void aRegularFileIsReadAndTakenOutOfTheAgentsReach() throws IOException {
        Files.writeString(output(), "{\"ok\":true}");

        assertThat(ws.readAgentFile(output(), MAX)).hasValueSatisfying(b -> assertThat(new String(b)).isEqualTo(
                "{\"ok\":true}"));
        assertThat(output()).doesNotExist();
        assertThat(list(ws.taken())).isEmpty();
    }

    @Test
    void noFileIsNothingToRead() throws IOException {
        assertThat(ws.readAgentFile(output(), MAX)).isEmpty();
    }

    @Test
    void aLinkToAHostFileIsRefusedAndTheHostFileIsLeftAlone() throws IOException {
        Files.createSymbolicLink(output(), hostFile);

        assertThatThrownBy(() -> ws.readAgentFile(output(), MAX)).isInstanceOf(RefusedFileException.class)
                .hasMessage("is a symbolic link");
        assertThat(hostFile).content().contains("the host's");
        assertThat(list(ws.taken())).isEmpty();
    }

    @Test
    void anOutFolderThatIsALinkIsRefused() throws IOException {
        Files.delete(ws.out());
        Files.createSymbolicLink(ws.out(), host);
        Path throughLink = ws.out().resolve("secret.json");

        assertThatThrownBy(() -> ws.readAgentFile(throughLink, MAX)).isInstanceOf(RefusedFileException.class)
                .hasMessage("lies under out/, which is a symbolic link");
        assertThat(hostFile).exists();
    }

    @Test
    void aHardLinkIsRefused() throws IOException {
        Path inside = Files.writeString(ws.tmp().resolve("shared.json"), "{}");
        Files.createLink(output(), inside);

        assertThatThrownBy(() -> ws.readAgentFile(output(), MAX)).hasMessage("has 2 names (a hard link)");
    }

    @Test
    void aFifoIsRefusedWithoutBeingOpened() throws Exception {
        Process mkfifo = new ProcessBuilder("mkfifo", output().toString()).start();
        assertThat(mkfifo.waitFor()).isZero();

        assertThatThrownBy(() -> ws.readAgentFile(output(), MAX)).hasMessageContaining("not a regular file");
    }

    @Test
    void aFolderAnOversizedFileAndAFileOutsideAreRefused() throws IOException {
        Files.createDirectory(output());
        assertThatThrownBy(() -> ws.readAgentFile(output(), MAX)).hasMessage("is a folder, not a file");
        assertThat(output()).as("a refused entry is taken out too").doesNotExist();

        Files.writeString(output(), "0123456789A");
        assertThatThrownBy(() -> ws.readAgentFile(output(), 10)).hasMessage("holds 11 bytes, more than the 10 "
                + "allowed");

        assertThatThrownBy(() -> ws.readAgentFile(hostFile, MAX)).hasMessage("lies outside its workspace");
        assertThatThrownBy(() -> ws.readAgentFile(ws.out().resolve("../../worker-1.srt.json"), MAX))
                .hasMessage("lies outside its workspace");
    }

    @Test
    void aResetRemovesLinksWithoutFollowingThemAndLaysOutFreshFolders() throws IOException {
        Files.delete(ws.input());
        Files.createSymbolicLink(ws.input(), host);
        Files.createDirectories(ws.tmp().resolve("deep/er"));
        Files.createSymbolicLink(ws.tmp().resolve("deep/er/to-host"), host);
        Files.createSymbolicLink(ws.root().resolve("stray"), hostFile);

        ws.reset();

        assertThat(hostFile).exists();
        assertThat(list(host)).containsExactly("secret.json");
        for (Path folder : new Path[] {ws.input(), ws.out(), ws.home(), ws.configDir(), ws.tmp()}) {
            assertThat(Files.isDirectory(folder, LinkOption.NOFOLLOW_LINKS)).as(folder.toString()).isTrue();
        }
        assertThat(list(ws.root())).containsExactlyInAnyOrder("input", "out", "home", "tmp");
        assertThat(list(ws.tmp())).isEmpty();
    }

    @Test
    void theInputIsStagedAsANewFileNeverThroughAPlantedLink() throws IOException {
        Path source = Files.writeString(dir.resolve("a.json"), "{\"a\":1}");

        assertThat(ws.stageInput(source, "a.json")).hasContent("{\"a\":1}");

        ws.reset();
        Files.createSymbolicLink(ws.input().resolve("a.json"), hostFile);
        assertThatThrownBy(() -> ws.stageInput(source, "a.json")).isInstanceOf(FileAlreadyExistsException.class);
        assertThat(hostFile).content().contains("the host's");
    }

    @Test
    void clearingOutDoesNotDeleteThroughALink() throws IOException {
        Files.delete(ws.out());
        Files.createSymbolicLink(ws.out(), host);

        ws.clearOut();
        ws.clearJobFiles();

        assertThat(hostFile).exists();
        assertThat(Files.isDirectory(ws.out(), LinkOption.NOFOLLOW_LINKS)).isTrue();
    }

    private static java.util.List<String> list(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(p -> p.getFileName().toString()).toList();
        }
    }
}
