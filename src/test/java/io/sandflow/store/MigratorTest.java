package io.sandflow.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The migration runner on migration files written by the test. */
class MigratorTest {

    @TempDir
    Path dir;

    @Test
    void appliesNewFilesInOrderOncePreferringTheDialectsOwn() throws Exception {
        write("migrations.list", "V1__one.sql\n");
        write("V1__one.sql", "CREATE TABLE IF NOT EXISTS t (id INTEGER);\n-- comment\nINSERT INTO t VALUES (1);");
        try (Connection c = DriverManager.getConnection("jdbc:h2:" + dir.resolve("db").toAbsolutePath(), "sa", "")) {
            assertThat(migrator().migrate(c)).isEqualTo(new Migrator.Result(1, 1));
            assertThat(migrator().migrate(c)).isEqualTo(new Migrator.Result(0, 1));

            write("migrations.list", "V1__one.sql\nV2__two.sql\n");
            write("V2__two.sql", "INSERT INTO t VALUES (2);");
            write("h2/V2__two.sql", "INSERT INTO t VALUES (20);");
            assertThat(migrator().migrate(c)).isEqualTo(new Migrator.Result(1, 2));
            assertThat(ids(c)).containsExactly(1, 20);

            write("V1__one.sql", "CREATE TABLE t (id BIGINT);");
            assertThatThrownBy(() -> migrator().migrate(c)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("V1__one.sql was changed after it was applied");
        }
    }

    @Test
    void refusesAListOutOfOrder() throws Exception {
        write("migrations.list", "V2__two.sql\nV1__one.sql\n");
        write("V1__one.sql", "SELECT 1;");
        write("V2__two.sql", "SELECT 1;");

        assertThatThrownBy(() -> migrator().migrations()).hasMessageContaining("V1__one.sql is out of order");
    }

    @Test
    void splitsStatementsAtLineEndSemicolons() {
        assertThat(Migrator.statements("-- head\nCREATE TABLE a (x INT);\r\n\nINSERT INTO a\n  VALUES (1);\nSELECT 1"))
                .containsExactly("CREATE TABLE a (x INT)", "INSERT INTO a\n  VALUES (1)", "SELECT 1");
    }

    private Migrator migrator() throws IOException {
        URLClassLoader loader = new URLClassLoader(new URL[] {dir.resolve("cp").toUri().toURL()}, null);
        return new Migrator(loader, "db/migration", Dialect.H2);
    }

    private void write(String name, String text) throws IOException {
        Path file = dir.resolve("cp/db/migration").resolve(name);
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
    }

    private static List<Integer> ids(Connection c) throws SQLException {
        List<Integer> out = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT id FROM t ORDER BY id")) {
            while (rs.next()) {
                out.add(rs.getInt(1));
            }
        }
        return out;
    }
}
