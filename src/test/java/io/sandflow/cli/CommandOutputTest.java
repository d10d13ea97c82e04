package io.sandflow.cli;

import io.sandflow.flow.DaemonProcess;
import io.sandflow.flow.Workdir;
import io.sandflow.job.Json;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Commands run as a user runs them, in a JVM of their own with stdout and stderr apart: logs go to stderr, dated;
 * stdout carries only what a command answers, so that {@code status --json} can be piped.
 */
@Tag("process")
class CommandOutputTest {

    /** 2026-12-03T09:22:52.013+00:00: the date, the time and the offset. */
    private static final Pattern ISO_LINE = Pattern.compile(
            "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}(Z|[+-]\\d{2}:\\d{2}) (INFO|WARN|ERROR|DEBUG) .*");

    @TempDir
    Path dir;

    record Output(int code, String out, String err) {
    }

    private Output sandflow(Workdir work, String... command) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dfile.encoding=UTF-8", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", DaemonProcess.classPath(),
                Sandflow.class.getName(), "-C", work.root.toString()));
        work.settings.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.addAll(List.of(command));
        Path out = dir.resolve("child.out");
        Path err = dir.resolve("child.err");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.root.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("LANG", "C.UTF-8");
        Process p = pb.start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the command ended").isTrue();
        return new Output(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    @Test
    void statusJsonIsAloneOnStdoutAndItsLogLinesGoToStderr() throws Exception {
        Workdir work = new Workdir(dir.resolve("w"));
        work.ask("a.json", "success");
        assertThat(work.runOnce()).isZero();

        Output status = sandflow(work, "status", "--json");

        assertThat(status.code()).as(status.err()).isZero();
        JsonNode json = Json.MAPPER.readTree(status.out());
        assertThat(json.path("counts").path("done").asLong()).isEqualTo(1);
        assertThat(status.out().strip()).startsWith("{").endsWith("}");
        assertThat(status.err().lines().filter(l -> l.contains("Job store opened")))
                .singleElement().matches(l -> ISO_LINE.matcher(l).matches(), "dated ISO 8601");
    }

    @Test
    void runOnceLogsToStderrOnlyWithDatedLines() throws Exception {
        Workdir work = new Workdir(dir.resolve("w"));
        work.ask("a.json", "success");

        Output run = sandflow(work, "run", "--once");

        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).isEmpty();
        assertThat(run.err().lines().filter(l -> l.contains("run --once finished")))
                .singleElement().matches(l -> ISO_LINE.matcher(l).matches(), "dated ISO 8601");
    }

    @Test
    void renderPrintsThePromptAndArgvWithoutLogLines() throws Exception {
        Workdir work = new Workdir(dir.resolve("w"));
        Path input = work.ask("a.json", "success");

        Output render = sandflow(work, "render", input.toString());

        assertThat(render.code()).as(render.err()).isZero();
        assertThat(render.out()).contains("a.json");
        assertThat(render.out().lines()).noneMatch(l -> ISO_LINE.matcher(l).matches()
                || l.matches("^\\d{2}:\\d{2}:\\d{2}\\.\\d{3} .*"));
    }
}
