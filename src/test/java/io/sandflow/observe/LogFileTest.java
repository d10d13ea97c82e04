package io.sandflow.observe;

import io.sandflow.flow.Workdir;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** {@code sandflow.log.file} writes the log to a file as well, rotated by size. */
@Tag("process")
class LogFileTest {

    @TempDir
    Path dir;

    @Test
    void theLogAlsoGoesToTheFileNamedBySandflowLogFile() throws Exception {
        Workdir work = new Workdir(dir);
        work.set("sandflow.log.file", "logs/sandflow.log");
        work.ask("a.json", "success");

        assertThat(work.runOnce()).isZero();

        Path file = dir.resolve("logs/sandflow.log");
        assertThat(file).exists();
        assertThat(Files.readString(file, StandardCharsets.UTF_8)).contains("a.json").contains("run --once finished")
                .containsPattern("(?m)^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}");
    }

    @Test
    void theLogFileIsRotatedOnceItReachesItsSize() throws Exception {
        Workdir work = new Workdir(dir);
        work.set("sandflow.log.file", "logs/sandflow.log").set("sandflow.log.max-size", "1KB")
                .set("sandflow.log.keep", "3");
        for (int i = 0; i < 8; i++) {
            work.ask("input-" + i + ".json", "success");
        }

        assertThat(work.runOnce()).isZero();

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(work.names(dir.resolve("logs")))
                .contains("sandflow.log", "sandflow.log.1.gz"));
        assertThat(work.names(dir.resolve("logs"))).hasSizeLessThanOrEqualTo(4);
    }
}
