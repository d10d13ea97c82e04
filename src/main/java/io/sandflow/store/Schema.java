package io.sandflow.store;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.locks.ReentrantLock;

import javax.sql.DataSource;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * Brings the store's schema up to date with Flyway, from the {@code V<n>__<words>.sql} files in
 * {@code db/migration}. Flyway records them in {@code sandflow_schema_history} and, on PostgreSQL, takes an
 * advisory lock so that nodes starting together migrate one after the other.
 *
 * <p>A store created before Flyway recorded its migrations in {@code sandflow_schema}: Flyway starts there with a
 * baseline at the highest version that table holds, and applies only the later files.
 */
final class Schema {

    static final String HISTORY_TABLE = "sandflow_schema_history";
    static final String LEGACY_TABLE = "sandflow_schema";

    /** Embedded H2 is opened by one process; stores opened together in it (tests, a status call) take turns. */
    private static final ReentrantLock H2_LOCK = new ReentrantLock();

    /** What a run did: how many files it applied and the schema version after it. */
    record Result(int applied, String version) {
    }

    private Schema() {
    }

    static Result migrate(DataSource dataSource, Dialect dialect) {
        boolean h2 = dialect == Dialect.H2;
        if (h2) {
            H2_LOCK.lock();
        }
        try {
            Integer legacy = legacyVersion(dataSource);
            MigrateResult result = Flyway.configure(Schema.class.getClassLoader())
                    .dataSource(dataSource)
                    .locations("classpath:db/migration")
                    .table(HISTORY_TABLE)
                    // An existing store from before Flyway starts at its recorded version; a database that
                    // holds other applications' tables but no Sandflow store starts before V1
                    .baselineOnMigrate(true)
                    .baselineVersion(legacy == null ? "0" : legacy.toString())
                    .baselineDescription(legacy == null ? "empty" : "migrated by " + LEGACY_TABLE)
                    .load()
                    .migrate();
            String version = result.targetSchemaVersion != null ? result.targetSchemaVersion
                    : result.initialSchemaVersion;
            return new Result(result.migrationsExecuted, version);
        } finally {
            if (h2) {
                H2_LOCK.unlock();
            }
        }
    }

    /** The highest version in the table of the migration runner used before Flyway, or null when there is none. */
    static Integer legacyVersion(DataSource dataSource) {
        try (Connection c = dataSource.getConnection()) {
            if (!tableExists(c, LEGACY_TABLE)) {
                return null;
            }
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT MAX(version) FROM " + LEGACY_TABLE)) {
                if (rs.next()) {
                    int v = rs.getInt(1);
                    return rs.wasNull() ? null : v;
                }
                return null;
            }
        } catch (SQLException e) {
            throw new StoreException("Job store: could not read " + LEGACY_TABLE + ": " + e.getMessage(), e);
        }
    }

    private static boolean tableExists(Connection c, String table) throws SQLException {
        String schema = c.getSchema();
        for (String name : new String[] {table, table.toUpperCase(java.util.Locale.ROOT)}) {
            try (ResultSet rs = c.getMetaData().getTables(null, schema, name, new String[] {"TABLE"})) {
                if (rs.next()) {
                    return true;
                }
            }
        }
        return false;
    }
}
