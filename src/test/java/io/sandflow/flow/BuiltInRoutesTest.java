package io.sandflow.flow;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class BuiltInRoutesTest {

    /** The jar's routes are named one by one (no scan); a route file added to routes/ must be named there too. */
    @Test
    void theJarLoadsExactlyTheRouteFilesOfTheProject() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("routes"))) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".camel.yaml")))
                    .containsExactlyInAnyOrderElementsOf(RouteFiles.BUILT_IN);
        }
        for (String name : RouteFiles.BUILT_IN) {
            assertThat(getClass().getClassLoader().getResource("routes/" + name)).as(name).isNotNull();
        }
    }

    @Test
    void aWorkingFolderRoutesFileReplacesTheBuiltInOneOfItsNameAndAddsTheOthers(
            @org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        assertThat(RouteFiles.of(dir).includePattern()).startsWith("classpath:routes/intake.camel.yaml,");
        Path routes = Files.createDirectories(dir.resolve("routes"));
        assertThat(RouteFiles.of(dir).includePattern()).as("an empty routes/ changes nothing")
                .doesNotContain("file:");
        Files.writeString(routes.resolve("results.camel.yaml"), "[]\n");
        Files.writeString(routes.resolve("mine.camel.yaml"), "[]\n");
        Files.writeString(routes.resolve("notes.txt"), "not a route\n");

        assertThat(RouteFiles.of(dir).includePattern().split(",")).containsExactly(
                "classpath:routes/intake.camel.yaml", "classpath:routes/dispatch.camel.yaml",
                "file:" + routes.resolve("results.camel.yaml"), "classpath:routes/errors.camel.yaml",
                "classpath:routes/housekeeping.camel.yaml", "classpath:routes/observe.camel.yaml",
                "file:" + routes.resolve("mine.camel.yaml"));
    }
}
