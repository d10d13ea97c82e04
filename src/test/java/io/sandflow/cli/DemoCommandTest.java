package io.sandflow.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * After the demo, a user looks at its batch with report, export and show: without the demo profile those commands
 * would not know the assessment's fields, and export's score, grade and name columns would stay empty.
 */
class DemoCommandTest {

    @Test
    void theNextStepsNameTheDemoFolderAndProfile() {
        String steps = DemoCommand.nextSteps(Path.of("demo"));

        assertThat(steps.lines().skip(1)).hasSize(3).allSatisfy(line ->
                assertThat(line).startsWith("  bin/sandflow -C demo --profile demo "));
        assertThat(steps).contains("--profile demo report").contains("--profile demo export --format csv")
                .contains("show 'مدونة_الحوار.json'");
    }

    @Test
    void aFolderWithASpaceIsQuoted() {
        assertThat(DemoCommand.nextSteps(Path.of("/tmp/my runs/demo")))
                .contains("-C '/tmp/my runs/demo' --profile demo report");
    }
}
