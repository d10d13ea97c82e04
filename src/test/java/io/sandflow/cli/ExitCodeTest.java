package io.sandflow.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Exit codes: a configuration error stops {@code run --once} with 2 and one sentence naming the setting,
 * before anything starts (no folders, no store).
 */
class ExitCodeTest {

    @TempDir
    Path dir;
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream originalErr;

    @BeforeEach
    void captureErr() {
        originalErr = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restoreErr() {
        System.setErr(originalErr);
        System.out.println("stderr: " + err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void anUnknownSettingIsAConfigurationError() {
        int code = Sandflow.execute("-C", dir.toString(), "-Dsandflow.no-such-setting=1", "run", "--once");

        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("unknown setting sandflow.no-such-setting");
        assertThat(dir.resolve("inbox")).doesNotExist();
        assertThat(dir.resolve("data")).doesNotExist();
    }

    @Test
    void aBadValueIsAConfigurationErrorNamingTheSetting() {
        int code = Sandflow.execute("-C", dir.toString(), "-Dsandflow.workers=0", "run", "--once");

        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("sandflow.workers");
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

        String stderr = err.toString(StandardCharsets.UTF_8);
        assertThat(code).isEqualTo(2);
        assertThat(stderr).contains("sandflow.store.url='jdbc:postgresql://127.0.0.1:9/sandflow")
                .contains("could not be opened").doesNotContain("\tat ");
        assertThat(input).exists();
        assertThat(dir.resolve("outbox")).isEmptyDirectory();
        assertThat(dir.resolve("failed")).isEmptyDirectory();
    }
}
