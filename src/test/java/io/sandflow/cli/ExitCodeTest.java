package io.sandflow.cli;

import io.sandflow.flow.Stderr;
import io.sandflow.store.JobStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Exit codes: a configuration error stops {@code run --once} with 2 and one sentence naming the setting,
 * before anything starts (no folders, no store).
 */
class ExitCodeTest {

    @TempDir
    Path dir;
    @RegisterExtension
    final Stderr err = new Stderr();

    @Test
    void anUnknownSettingIsAConfigurationError() {
        int code = Sandflow.execute("-C", dir.toString(), "-Dsandflow.no-such-setting=1", "run", "--once");

        assertThat(code).isEqualTo(2);
        assertThat(err.text()).contains("unknown setting sandflow.no-such-setting");
        assertThat(dir.resolve("inbox")).doesNotExist();
        assertThat(dir.resolve("data")).doesNotExist();
    }

    @Test
    void aBadValueIsAConfigurationErrorNamingTheSetting() {
        int code = Sandflow.execute("-C", dir.toString(), "-Dsandflow.workers=0", "run", "--once");

        assertThat(code).isEqualTo(2);
        assertThat(err.text()).contains("sandflow.workers");
        assertThat(dir.resolve("data")).doesNotExist();
    }

    @Test
    void aStoreThatCannotBeOpenedIsOneSentenceAndLeavesTheInboxAlone() throws Exception {
        java.nio.file.Files.createDirectories(dir.resolve("inbox"));
        Path input = java.nio.file.Files.writeString(dir.resolve("inbox/a.json"), "{\"a\": 1}\n");
        // Nothing listens on port 9 (discard) here: the connection is refused at once
        int code = Sandflow.execute("-C", dir.toString(), "-Dsandflow.sandbox.kind=none",
                "-Dsandflow.sandbox.allow-unsandboxed=true", "-Dsandflow.agent.command=/bin/cat",
                "-Dsandflow.store.url=jdbc:postgresql://127.0.0.1:9/sandflow?connectTimeout=5", "run", "--once");

        String stderr = err.text();
        assertThat(code).isEqualTo(2);
        assertThat(stderr).contains("sandflow.store.url='jdbc:postgresql://127.0.0.1:9/sandflow")
                .contains("could not be opened").doesNotContain("\tat ");
        assertThat(input).exists();
        assertThat(dir.resolve("outbox")).isEmptyDirectory();
        assertThat(dir.resolve("failed")).isEmptyDirectory();
    }

    @Test
    void anExportToAFolderThatDoesNotExistIsOneSentenceNamingIt() {
        JobStore.open("jdbc:h2:" + dir.resolve("data/sandflow"), null, null).close();
        Path out = dir.resolve("no-such-folder/x.csv");

        int code = Sandflow.execute("-C", dir.toString(), "export", "--out", out.toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.text()).contains("--out " + out).doesNotContain("\tat ");
    }
}
