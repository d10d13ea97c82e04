package io.sandflow.store;

import java.sql.SQLException;
import java.util.Locale;

/** The few places where H2 and PostgreSQL need different SQL; everything else is shared. */
enum Dialect {
    H2("h2"),
    POSTGRESQL("postgresql");

    /** SQLSTATE of a unique or primary key violation, the same on both databases. */
    static final String UNIQUE_VIOLATION = "23505";

    private final String folder;

    Dialect(String folder) {
        this.folder = folder;
    }

    /** The dialect for a JDBC URL, or null when the URL is neither H2 nor PostgreSQL. */
    static Dialect of(String jdbcUrl) {
        String url = jdbcUrl == null ? "" : jdbcUrl.trim().toLowerCase(Locale.ROOT);
        if (url.startsWith("jdbc:h2:")) {
            return H2;
        }
        if (url.startsWith("jdbc:postgresql:")) {
            return POSTGRESQL;
        }
        return null;
    }

    /** The sub-folder of db/migration whose files replace the shared ones of the same name. */
    String folder() {
        return folder;
    }

    /**
     * Wraps an INSERT, UPDATE or DELETE so that executeQuery returns the given columns of the rows it changed:
     * PostgreSQL appends RETURNING, H2 selects from the statement's FINAL TABLE.
     */
    String returning(String dml, String columns) {
        return switch (this) {
            case POSTGRESQL -> dml + " RETURNING " + columns;
            case H2 -> "SELECT " + columns + " FROM FINAL TABLE (" + dml + ")";
        };
    }

    /** As {@link #returning}, for a DELETE: the columns of the rows it removed. */
    String returningDeleted(String delete, String columns) {
        return switch (this) {
            case POSTGRESQL -> delete + " RETURNING " + columns;
            case H2 -> "SELECT " + columns + " FROM OLD TABLE (" + delete + ")";
        };
    }

    /**
     * An INSERT that does nothing when it would violate the unique key. PostgreSQL says so in SQL (a failed
     * statement would abort the surrounding transaction there); H2 2.x knows ON CONFLICT only in its PostgreSQL
     * mode, so there the caller catches the violation (see {@link #isUniqueViolation}), which H2 rolls back
     * alone, leaving the transaction usable.
     */
    String insertIgnoringDuplicate(String insert) {
        return this == POSTGRESQL ? insert + " ON CONFLICT DO NOTHING" : insert;
    }

    static boolean isUniqueViolation(SQLException e) {
        for (SQLException x = e; x != null; x = x.getNextException()) {
            if (UNIQUE_VIOLATION.equals(x.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    /**
     * The database's clock moved by a number of milliseconds given as the next parameter. Both databases take the
     * SQL-standard interval literal; the explicit cast gives PostgreSQL the parameter's type.
     */
    static String nowPlusMillis() {
        return "(CURRENT_TIMESTAMP + CAST(? AS BIGINT) * INTERVAL '0.001' SECOND)";
    }
}
