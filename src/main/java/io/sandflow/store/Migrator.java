package io.sandflow.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.sandflow.job.JobKey;

/**
 * Applies the versioned SQL files listed in {@code db/migration/migrations.list} in order, once each, and records
 * them in {@code sandflow_schema}. A file in {@code db/migration/<dialect>/} replaces the shared file of the same
 * name for that database. On PostgreSQL a session advisory lock makes nodes that start together migrate one after
 * the other; on H2, whose file only one process opens, a lock in this JVM does.
 */
final class Migrator {

    /** The advisory lock key: "SANDFLOW" read as a number, so that it does not collide with other applications. */
    static final long ADVISORY_LOCK_KEY = 0x53414E44464C4FL;

    private static final Pattern FILE_NAME = Pattern.compile("V(\\d+)__([A-Za-z0-9_]+)\\.sql");
    private static final ReentrantLock H2_LOCK = new ReentrantLock();

    private final ClassLoader loader;
    private final String base;
    private final Dialect dialect;

    /** One migration file: its version, its name and its text for this dialect. */
    record Migration(int version, String fileName, String sql) {
        String checksum() {
            return JobKey.sha256(sql.replace("\r\n", "\n").strip().getBytes(StandardCharsets.UTF_8));
        }
    }

    /** What a run did: how many files it applied and the schema version after it. */
    record Result(int applied, int version) {
    }

    Migrator(ClassLoader loader, String base, Dialect dialect) {
        this.loader = loader;
        this.base = base;
        this.dialect = dialect;
    }

    List<Migration> migrations() {
        String list = read(base + "/migrations.list");
        if (list == null) {
            throw new IllegalStateException("the migration list " + base + "/migrations.list is missing");
        }
        List<Migration> out = new ArrayList<>();
        int last = 0;
        for (String line : list.split("\n")) {
            String fileName = line.strip();
            if (fileName.isEmpty() || fileName.startsWith("#")) {
                continue;
            }
            Matcher m = FILE_NAME.matcher(fileName);
            if (!m.matches()) {
                throw new IllegalStateException("migration file name " + fileName + " is not V<n>__<words>.sql");
            }
            int version = Integer.parseInt(m.group(1));
            if (version <= last) {
                throw new IllegalStateException("migration " + fileName + " is out of order in migrations.list");
            }
            last = version;
            String sql = read(base + "/" + dialect.folder() + "/" + fileName);
            if (sql == null) {
                sql = read(base + "/" + fileName);
            }
            if (sql == null) {
                throw new IllegalStateException("migration " + fileName + " is listed but missing");
            }
            out.add(new Migration(version, fileName, sql));
        }
        return out;
    }

    Result migrate(Connection c) throws SQLException {
        List<Migration> migrations = migrations();
        lock(c);
        try {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE IF NOT EXISTS sandflow_schema ("
                        + " version INTEGER PRIMARY KEY,"
                        + " file_name VARCHAR(200) NOT NULL,"
                        + " checksum VARCHAR(64) NOT NULL,"
                        + " applied_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL)");
            }
            Map<Integer, String> applied = new HashMap<>();
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT version, checksum FROM sandflow_schema")) {
                while (rs.next()) {
                    applied.put(rs.getInt(1), rs.getString(2));
                }
            }
            int count = 0;
            int version = applied.keySet().stream().mapToInt(Integer::intValue).max().orElse(0);
            for (Migration m : migrations) {
                String checksum = applied.get(m.version());
                if (checksum != null) {
                    if (!checksum.equals(m.checksum())) {
                        throw new IllegalStateException("migration " + m.fileName()
                                + " was changed after it was applied to this database; add a new migration instead");
                    }
                    continue;
                }
                apply(c, m);
                count++;
                version = Math.max(version, m.version());
            }
            return new Result(count, version);
        } finally {
            unlock(c);
        }
    }

    private void apply(Connection c, Migration m) throws SQLException {
        // PostgreSQL runs DDL in the transaction, so a failed file leaves nothing behind; H2 commits each DDL
        // statement, which is why the files use IF NOT EXISTS and can be run again after a partial failure.
        c.setAutoCommit(false);
        try {
            try (Statement s = c.createStatement()) {
                for (String statement : statements(m.sql())) {
                    try {
                        s.execute(statement);
                    } catch (SQLException e) {
                        throw new SQLException("migration " + m.fileName() + " failed at: "
                                + abbreviate(statement) + ": " + e.getMessage(), e.getSQLState(), e);
                    }
                }
            }
            try (PreparedStatement p = c.prepareStatement(
                    "INSERT INTO sandflow_schema (version, file_name, checksum) VALUES (?, ?, ?)")) {
                p.setInt(1, m.version());
                p.setString(2, m.fileName());
                p.setString(3, m.checksum());
                p.executeUpdate();
            }
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    /** Splits a file at semicolons that end a line; lines starting with -- are comments. */
    static List<String> statements(String sql) {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : sql.replace("\r\n", "\n").split("\n")) {
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("--")) {
                continue;
            }
            current.append(line).append('\n');
            if (trimmed.endsWith(";")) {
                String statement = current.toString().strip();
                out.add(statement.substring(0, statement.length() - 1).strip());
                current.setLength(0);
            }
        }
        if (!current.toString().isBlank()) {
            out.add(current.toString().strip());
        }
        return out;
    }

    private void lock(Connection c) throws SQLException {
        if (dialect == Dialect.POSTGRESQL) {
            try (PreparedStatement p = c.prepareStatement("SELECT pg_advisory_lock(?)")) {
                p.setLong(1, ADVISORY_LOCK_KEY);
                p.executeQuery().close();
            }
        } else {
            H2_LOCK.lock();
        }
    }

    private void unlock(Connection c) throws SQLException {
        if (dialect == Dialect.POSTGRESQL) {
            try (PreparedStatement p = c.prepareStatement("SELECT pg_advisory_unlock(?)")) {
                p.setLong(1, ADVISORY_LOCK_KEY);
                p.executeQuery().close();
            }
        } else {
            H2_LOCK.unlock();
        }
    }

    private String read(String resource) {
        try (InputStream in = loader.getResourceAsStream(resource)) {
            return in == null ? null : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + resource + ": " + e.getMessage(), e);
        }
    }

    private static String abbreviate(String statement) {
        String one = statement.replaceAll("\\s+", " ");
        return one.length() <= 80 ? one : one.substring(0, 77) + "...";
    }
}
