package io.sandflow.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code render FILE} shows the prompt and the exact argv of a first attempt, and runs nothing.
 */
class RenderCommandTest {

    @TempDir
    Path dir;

    @Test
    void showsThePromptAndTheArgvOfTheFirstAttemptWithoutRunningAnything() throws IOException {
        Path input = Files.writeString(Files.createDirectories(dir.resolve("inbox")).resolve("مدونة $(x).json"),
                "{\"Name\": \"Hiwar <Corpus> & co\"}");
        Path marker = dir.resolve("agent-ran");
        Path agent = Files.writeString(dir.resolve("agent.sh"), "#!/bin/sh\ntouch '" + marker + "'\n");
        agent.toFile().setExecutable(true);
        StringWriter out = new StringWriter();

        int code = Sandflow.execute(new PrintWriter(out), "-C", dir.toString(), "-Dsandflow.agent.command=" + agent,
                "-Dsandflow.sandbox.kind=srt", "-Dsandflow.agent.model=claude-test", "render", input.toString());

        assertThat(code).isZero();
        String text = out.toString();
        List<String> lines = text.lines().toList();
        int argvAt = lines.indexOf("# argv (one argument per line; sandbox srt)");
        assertThat(argvAt).isPositive();
        List<String> argv = lines.subList(argvAt + 1, lines.indexOf(lines.stream()
                .filter(l -> l.startsWith("# environment")).findFirst().orElseThrow()));
        assertThat(argv.get(0)).isEqualTo("srt");
        assertThat(argv).contains(agent.toString(), "-p", "--output-format", "json", "--json-schema",
                "--no-session-persistence", "--model", "claude-test", "--dangerously-skip-permissions");
        assertThat(text).as("the prompt holds the raw content, not HTML-escaped")
                .contains("Hiwar <Corpus> & co").contains("مدونة $(x).json");
        assertThat(text).contains("SANDFLOW_INPUT=").doesNotContain("ANTHROPIC_API_KEY=");
        assertThat(marker).as("render never runs the agent").doesNotExist();
        assertThat(dir.resolve("data")).as("render opens no store").doesNotExist();
    }
}
