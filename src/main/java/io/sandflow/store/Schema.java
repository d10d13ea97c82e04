package io.sandflow.store;

import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.OptionalInt;
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
    static final String LOCATION = "db/migration";
    private static final java.util.regex.Pattern FILE_NAME = java.util.regex.Pattern.compile("V(\\d+)__\\w+\\.sql");

    /** Embedded H2 is opened by one process; stores opened together in it (tests, a status call) take turns. */
    private static final ReentrantLock H2_LOCK = new ReentrantLock();

    /** What a run did: how many files it applied and the schema version after it. */
    record Result(int applied, String version) {
    }

    private Schema() {
    }

    static Result migrate(DataSource dataSource, Dialect dialect) {
        return migrate(dataSource, dialect, Schema.class.getClassLoader());
    }

    /** As {@link #migrate(DataSource, Dialect)}, with the migration files found through {@code loader}. */
    static Result migrate(DataSource dataSource, Dialect dialect, ClassLoader loader) {
        boolean h2 = dialect == Dialect.H2;
        if (h2) {
            H2_LOCK.lock();
        }
        try {
            OptionalInt newest = newestMigration(loader);
            OptionalInt applied = appliedVersion(dataSource);
            if (newest.isPresent() && applied.isPresent() && applied.getAsInt() >= newest.getAsInt()) {
                // Up to date, the usual case at start: Flyway's full run (scan, validate) would add ~0.3 s to
                // every start and every status call
                return new Result(0, Integer.toString(applied.getAsInt()));
            }
            MigrateResult result;
            try {
                result = runFlyway(dataSource, loader);
            } catch (org.flywaydb.core.api.FlywayException e) {
                // Another node created the history table a moment ago and is migrating under Flyway's lock: once
                // it is done, this run finds the history and has nothing left to baseline
                if (e.getMessage() == null || !e.getMessage().contains("already exists, and is empty")) {
                    throw e;
                }
                result = runFlyway(dataSource, loader);
            }
            String version = result.targetSchemaVersion != null ? result.targetSchemaVersion
                    : result.initialSchemaVersion;
            return new Result(result.migrationsExecuted, version);
        } finally {
            if (h2) {
                H2_LOCK.unlock();
            }
        }
    }

    private static MigrateResult runFlyway(DataSource dataSource, ClassLoader loader) {
        Integer legacy = legacyVersion(dataSource);
        // A baseline only where one is needed: a store from before Flyway starts at its recorded version, and a
        // database that holds other applications' tables but no Sandflow store starts before V1. A fresh database
        // is migrated from V1 under Flyway's lock, which nodes starting together then wait on.
        boolean baseline = legacy != null || (appliedVersion(dataSource).isEmpty() && holdsOtherTables(dataSource));
        return Flyway.configure(loader)
                .dataSource(dataSource)
                .locations("classpath:" + LOCATION)
                .table(HISTORY_TABLE)
                .baselineOnMigrate(baseline)
                .baselineVersion(legacy == null ? "0" : legacy.toString())
                .baselineDescription(legacy == null ? "empty" : "migrated by " + LEGACY_TABLE)
                .load()
                .migrate();
    }

    /** Whether the schema holds tables other than Flyway's history (another application's, or a half-made store). */
    private static boolean holdsOtherTables(DataSource dataSource) {
        try (Connection c = dataSource.getConnection();
             ResultSet rs = c.getMetaData().getTables(null, c.getSchema(), "%", new String[] {"TABLE"})) {
            while (rs.next()) {
                if (!rs.getString("TABLE_NAME").equalsIgnoreCase(HISTORY_TABLE)) {
                    return true;
                }
            }
            return false;
        } catch (SQLException e) {
            return true;
        }
    }

    /**
     * The highest version among the migration files on the class path (a folder, or the application's jar); empty
     * when they cannot be listed, and Flyway then decides.
     */
    static OptionalInt newestMigration(ClassLoader loader) {
        try {
            int newest = -1;
            for (java.util.Enumeration<java.net.URL> urls = loader.getResources(LOCATION); urls.hasMoreElements(); ) {
                for (String name : names(urls.nextElement())) {
                    java.util.regex.Matcher m = FILE_NAME.matcher(name);
                    if (m.matches()) {
                        newest = Math.max(newest, Integer.parseInt(m.group(1)));
                    }
                }
            }
            return newest < 0 ? OptionalInt.empty() : OptionalInt.of(newest);
        } catch (IOException | RuntimeException e) {
            return OptionalInt.empty();
        }
    }

    /** The file names directly in a class path folder, which is a directory or a folder inside a jar. */
    private static java.util.List<String> names(java.net.URL folder) throws IOException {
        java.util.List<String> names = new java.util.ArrayList<>();
        if ("file".equals(folder.getProtocol())) {
            try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.list(
                    java.nio.file.Path.of(java.net.URI.create(folder.toString())))) {
                files.forEach(f -> names.add(f.getFileName().toString()));
            }
        } else if ("jar".equals(folder.getProtocol())) {
            java.net.JarURLConnection connection = (java.net.JarURLConnection) folder.openConnection();
            connection.setUseCaches(true);
            String prefix = LOCATION + "/";
            java.util.jar.JarFile jar = connection.getJarFile();
            for (java.util.Enumeration<java.util.jar.JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
                String entry = e.nextElement().getName();
                if (entry.startsWith(prefix) && entry.indexOf('/', prefix.length()) < 0) {
                    names.add(entry.substring(prefix.length()));
                }
            }
        }
        return names;
    }

    /** The highest version Flyway recorded as applied, or empty when it has recorded none (or no table yet). */
    static OptionalInt appliedVersion(DataSource dataSource) {
        try (Connection c = dataSource.getConnection()) {
            if (!tableExists(c, HISTORY_TABLE)) {
                return OptionalInt.empty();
            }
            int newest = -1;
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT \"version\", \"success\""
                    + " FROM \"" + HISTORY_TABLE + "\" WHERE \"version\" IS NOT NULL")) {
                while (rs.next()) {
                    if (!rs.getBoolean(2)) {
                        // A failed migration: Flyway reports it
                        return OptionalInt.empty();
                    }
                    String v = rs.getString(1);
                    if (v.matches("\\d+")) {
                        newest = Math.max(newest, Integer.parseInt(v));
                    }
                }
            }
            return newest < 0 ? OptionalInt.empty() : OptionalInt.of(newest);
        } catch (SQLException e) {
            return OptionalInt.empty();
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
