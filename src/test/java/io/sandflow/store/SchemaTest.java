package io.sandflow.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.List;

import com.zaxxer.hikari.HikariDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Flyway runs when a migration is newer than the store's schema, and only then. */
class SchemaTest {

    @TempDir
    Path dir;

    @Test
    void aStoreUpToDateSkipsFlywayAndANewerFileIsStillApplied() throws Exception {
        Path classes = dir.resolve("cp");
        Path migrations = Files.createDirectories(classes.resolve(Schema.LOCATION));
        for (String file : List.of("V1__jobs.sql", "V2__nodes.sql", "V3__state.sql")) {
            try (InputStream in = SchemaTest.class.getResourceAsStream("/" + Schema.LOCATION + "/" + file)) {
                Files.copy(in, migrations.resolve(file));
            }
        }
        String url = "jdbc:h2:" + dir.resolve("store");
        try (HikariDataSource pool = StorePool.create(url, "sa", "", Dialect.H2, 2);
             URLClassLoader three = loader(classes)) {
            assertThat(Schema.migrate(pool, Dialect.H2, three)).isEqualTo(new Schema.Result(3, "3"));
            assertThat(Schema.migrate(pool, Dialect.H2, three)).as("up to date").isEqualTo(new Schema.Result(0, "3"));

            Files.writeString(migrations.resolve("V4__extra.sql"), "CREATE TABLE sandflow_extra (id INTEGER);\n");
            try (URLClassLoader four = loader(classes)) {
                assertThat(Schema.newestMigration(four)).hasValue(4);
                assertThat(Schema.migrate(pool, Dialect.H2, four)).isEqualTo(new Schema.Result(1, "4"));
            }
            try (Connection c = pool.getConnection();
                 ResultSet rs = c.getMetaData().getTables(null, null, "SANDFLOW_EXTRA", null)) {
                assertThat(rs.next()).isTrue();
            }
        }
    }

    @Test
    void theShippedMigrationsAreFoundOnTheClassPath() {
        assertThat(Schema.newestMigration(Schema.class.getClassLoader())).isPresent();
    }

    private static URLClassLoader loader(Path classes) throws Exception {
        return new URLClassLoader(new URL[] {classes.toUri().toURL()}, null);
    }
}
