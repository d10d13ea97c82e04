package io.sandflow.store;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Properties;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * A handful of JDBC connections shared by threads. A connection is lent to one thread at a time, comes back in
 * auto-commit mode, and is dropped when it broke (SQLSTATE class 08) or fails a validity check after idling.
 */
final class ConnectionPool implements AutoCloseable {

    private static final long VALIDATE_AFTER_IDLE_NANOS = Duration.ofSeconds(30).toNanos();

    private final String url;
    private final Properties properties;
    private final Dialect dialect;
    private final Semaphore permits;
    private final Duration borrowTimeout;
    private final Deque<Idle> idle = new ArrayDeque<>();
    private volatile boolean closed;

    private record Idle(Connection connection, long since) {
    }

    ConnectionPool(String url, String user, String password, Dialect dialect, int size, Duration borrowTimeout) {
        this.url = url;
        this.dialect = dialect;
        this.properties = new Properties();
        if (user != null) {
            properties.setProperty("user", user);
        }
        if (password != null) {
            properties.setProperty("password", password);
        }
        if (dialect == Dialect.POSTGRESQL) {
            properties.setProperty("ApplicationName", "sandflow");
        }
        this.permits = new Semaphore(size, true);
        this.borrowTimeout = borrowTimeout;
    }

    /** Opens a connection now, so that a bad URL or an unreachable server shows at start. */
    void warmUp() throws SQLException {
        Connection c = borrow();
        giveBack(c, false);
    }

    Connection borrow() throws SQLException {
        if (closed) {
            throw new SQLException("the job store is closed", "08003");
        }
        try {
            if (!permits.tryAcquire(borrowTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new SQLException("no free database connection within " + borrowTimeout.toSeconds() + " s",
                        "08001");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while waiting for a database connection", "08001", e);
        }
        try {
            while (true) {
                Idle candidate;
                synchronized (idle) {
                    candidate = idle.pollFirst();
                }
                if (candidate == null) {
                    return open();
                }
                if (usable(candidate)) {
                    return candidate.connection();
                }
                closeQuietly(candidate.connection());
            }
        } catch (SQLException | RuntimeException e) {
            permits.release();
            throw e;
        }
    }

    /** Returns a connection; broken ones are closed instead of kept. */
    void giveBack(Connection c, boolean broken) {
        try {
            if (!broken && !closed && !c.isClosed()) {
                if (!c.getAutoCommit()) {
                    c.rollback();
                    c.setAutoCommit(true);
                }
                synchronized (idle) {
                    idle.addFirst(new Idle(c, System.nanoTime()));
                }
                return;
            }
            closeQuietly(c);
        } catch (SQLException e) {
            closeQuietly(c);
        } finally {
            permits.release();
        }
    }

    static boolean isConnectionFailure(SQLException e) {
        String state = e.getSQLState();
        return state != null && state.startsWith("08");
    }

    private boolean usable(Idle candidate) {
        try {
            if (candidate.connection().isClosed()) {
                return false;
            }
            if (System.nanoTime() - candidate.since() > VALIDATE_AFTER_IDLE_NANOS) {
                return candidate.connection().isValid(2);
            }
            return true;
        } catch (SQLException e) {
            return false;
        }
    }

    private Connection open() throws SQLException {
        Connection c = DriverManager.getConnection(url, properties);
        try {
            c.setAutoCommit(true);
            if (dialect == Dialect.H2) {
                // H2 gives up on a row lock after 1 s by default; concurrent claims and a busy disk need longer.
                try (Statement s = c.createStatement()) {
                    s.execute("SET LOCK_TIMEOUT 10000");
                }
            }
            return c;
        } catch (SQLException | RuntimeException e) {
            closeQuietly(c);
            throw e;
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException | RuntimeException ignored) {
            // nothing more to do with a connection that cannot even close
        }
    }

    @Override
    public void close() {
        closed = true;
        synchronized (idle) {
            for (Idle i : idle) {
                closeQuietly(i.connection());
            }
            idle.clear();
        }
    }
}
