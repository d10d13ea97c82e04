package io.sandflow.app;

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
                    .containsExactlyInAnyOrderElementsOf(SandflowConfiguration.BUILT_IN_ROUTES);
        }
        for (String name : SandflowConfiguration.BUILT_IN_ROUTES) {
            assertThat(getClass().getClassLoader().getResource("routes/" + name)).as(name).isNotNull();
        }
    }

    @Test
    void aWorkingFolderWithItsOwnRoutesUsesThem(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        assertThat(SandflowConfiguration.routesPattern(dir)).startsWith("classpath:routes/intake.camel.yaml,");
        Files.createDirectories(dir.resolve("routes"));
        assertThat(SandflowConfiguration.routesPattern(dir)).isEqualTo("file:" + dir.resolve("routes") + "/*.camel.yaml");
    }
}
