package io.sandflow.flow;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A failed attempt is one short log line (file, attempt, exit code, class, reason); the argv, with the whole schema
 * in it, is for DEBUG only.
 */
@Tag("process")
class AttemptLogTest {

    @TempDir
    Path dir;

    @Test
    void eachFailedAttemptIsOneConciseLine() throws Exception {
        Workdir work = new Workdir(dir);
        work.ask("rejected.json", "bad-request");
        work.ask("flaky.json", "flaky-1");

        List<LogCapture.Line> lines;
        try (LogCapture log = new LogCapture()) {
            assertThat(work.runOnce()).isEqualTo(1);
            lines = log.lines();
        }

        List<LogCapture.Line> rejected = about(lines, "rejected.json: attempt");
        assertThat(rejected).as(lines.toString()).singleElement().satisfies(l -> {
            assertThat(l.level()).isEqualTo(Level.WARN);
            assertThat(l.message()).contains("attempt 1 ").contains("exit 1").contains("permanent").contains("(400)");
        });
        assertThat(about(lines, "flaky.json: attempt")).singleElement().satisfies(l -> assertThat(l.message())
                .contains("attempt 1 ").contains("exit 1").contains("transient").contains("429"));
        assertThat(lines).as("no line carries the argv or the schema at INFO and above")
                .filteredOn(l -> l.level().isMoreSpecificThan(Level.INFO))
                .allSatisfy(l -> assertThat(l.message()).hasSizeLessThan(600).doesNotContain("--json-schema"));
        assertThat(lines).noneMatch(l -> l.logger().contains("ExecProducer"));
    }

    @Test
    void theArgvIsLoggedAtDebug() throws Exception {
        Workdir work = new Workdir(dir);
        work.set("sandflow.log.level", "DEBUG");
        work.ask("a.json", "success");

        List<LogCapture.Line> lines;
        try (LogCapture log = new LogCapture()) {
            assertThat(work.runOnce()).isZero();
            lines = log.lines();
        }

        assertThat(lines).anySatisfy(l -> {
            assertThat(l.level()).isEqualTo(Level.DEBUG);
            assertThat(l.message()).contains("a.json").contains("--json-schema");
        });
    }

    private static List<LogCapture.Line> about(List<LogCapture.Line> lines, String text) {
        return lines.stream().filter(l -> l.message().contains(text)).toList();
    }
}
