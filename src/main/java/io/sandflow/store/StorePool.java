package io.sandflow.store;

import java.sql.SQLException;
import java.util.Set;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.SQLExceptionOverride;

/**
 * The store's HikariCP pool: how it connects to each database, and which errors mean that a connection is dead.
 * HikariCP already drops a connection on SQLSTATE class 08 and on a terminated PostgreSQL backend (57P01..57P03);
 * this adds an embedded H2 database that closed itself (after a failed write, such as on a full disk), so that the
 * next connection opens the file anew.
 */
final class StorePool {

    /** How long a thread waits for a connection before the store counts as unreachable. */
    static final long CONNECTION_TIMEOUT_MS = 10_000;

    /**
     * H2 error codes (they are also its SQLSTATEs) after which its database instance is gone for good: closed,
     * shutting down, or unable to read or write its file.
     */
    private static final Set<String> H2_DEAD = Set.of("90098", "90121", "90028", "90031", "90030", "50000");

    private StorePool() {
    }

    static HikariDataSource create(String url, String user, String password, Dialect dialect, int size) {
        HikariConfig config = new HikariConfig();
        config.setPoolName("sandflow-store");
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword(password);
        // Flyway holds two connections while it migrates (its lock and history, and the migration itself)
        config.setMaximumPoolSize(Math.max(2, size));
        config.setMinimumIdle(1);
        config.setAutoCommit(true);
        config.setConnectionTimeout(CONNECTION_TIMEOUT_MS);
        config.setValidationTimeout(Math.min(5_000, CONNECTION_TIMEOUT_MS - 1));
        // One connection at start: a bad URL or an unreachable server is reported then, not at the first job
        config.setInitializationFailTimeout(1);
        if (dialect == Dialect.H2) {
            // H2 gives up on a row lock after 1 s by default; concurrent claims and a busy disk need longer
            config.setConnectionInitSql("SET LOCK_TIMEOUT 10000");
            config.setExceptionOverride(new H2Override());
        } else {
            config.addDataSourceProperty("ApplicationName", "sandflow");
        }
        return new HikariDataSource(config);
    }

    /** The innermost cause that says something: pool and migration wrappers add nothing a user needs. */
    static Throwable rootCause(Throwable t) {
        Throwable deepest = t;
        for (Throwable c = t; c != null && c.getCause() != c; c = c.getCause()) {
            if (c instanceof SQLException || c.getCause() == null) {
                deepest = c;
                if (c instanceof SQLException) {
                    break;
                }
            }
        }
        return deepest;
    }

    /** Drops a connection whose embedded H2 database has closed, instead of lending it out again. */
    static final class H2Override implements SQLExceptionOverride {
        @java.lang.Override
        public Override adjudicate(SQLException e) {
            for (SQLException x = e; x != null; x = x.getNextException()) {
                if (x.getSQLState() != null && H2_DEAD.contains(x.getSQLState())) {
                    return Override.MUST_EVICT;
                }
            }
            return Override.CONTINUE_EVICT;
        }
    }
}
