package io.sandflow.store;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import com.zaxxer.hikari.HikariDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.sandflow.job.FailureClass;
import io.sandflow.job.JobKey;
import io.sandflow.job.JobState;

/**
 * The JobStore on plain JDBC, one code path for H2 and PostgreSQL, with the differences kept in {@link Dialect}.
 *
 * <p>It is long because it is the {@link JobStore} contract, method for method: each write is one SQL statement or
 * transaction with the fencing, retrying and flushing it needs next to it, and the contract test checks them as one
 * store on both databases. Split by topic, the claim's rules would be spread over the files that must agree on them.
 */
final class JdbcJobStore implements JobStore {

    private static final Logger LOG = LoggerFactory.getLogger(JdbcJobStore.class);

    static final String TOTAL_COST = "total.cost_usd";
    static final String TOTAL_INPUT_TOKENS = "total.input_tokens";
    static final String TOTAL_OUTPUT_TOKENS = "total.output_tokens";
    private static final String RESERVED_STATE_PREFIX = "total.";
    /** The row {@link #probe} writes: a write, not a read, so that a store that can no longer write shows. */
    private static final String PROBE_KEY = "store.probe";

    private static final int CLAIM_ROUNDS = 10;
    private static final int SAMPLE_NAMES = 5;
    private static final int IN_LIST_CHUNK = 500;

    private static final String COLUMNS = "id, name, sha256, state, attempts, created_at, started_at, finished_at,"
            + " duration_ms, cost_usd, input_tokens, output_tokens, turns, session_id, last_error, failure_reason,"
            + " failure_class, owner, lease_until, fence_token, sandbox, output_name";

    private static final String ATTEMPT_COLUMNS = "job_id, attempt, started_at, ended_at, exit_code, timed_out,"
            + " failure_class, reason, cost_usd, input_tokens, output_tokens, node, sandbox";

    private static final String FENCED = " WHERE id = ? AND fence_token = ? AND state = 'RUNNING'";

    private final HikariDataSource pool;
    private final Dialect dialect;
    private final String redactedUrl;

    private JdbcJobStore(HikariDataSource pool, Dialect dialect, String redactedUrl) {
        this.pool = pool;
        this.dialect = dialect;
        this.redactedUrl = redactedUrl;
    }

    static JobStore open(String jdbcUrl, String user, String password, int poolSize) {
        String redacted = JdbcUrls.redact(jdbcUrl);
        Dialect dialect = Dialect.of(jdbcUrl);
        if (dialect == null) {
            throw new IllegalStateException(URL_SETTING + " must be a jdbc:h2: or jdbc:postgresql: URL, but is "
                    + (jdbcUrl == null || jdbcUrl.isBlank() ? "empty" : "'" + redacted + "'") + ".");
        }
        if (poolSize < 1) {
            throw new IllegalArgumentException("poolSize must be at least 1, but is " + poolSize);
        }
        long started = System.nanoTime();
        HikariDataSource pool = null;
        try {
            pool = StorePool.create(jdbcUrl.trim(), user, password, dialect, poolSize);
            Schema.Result result = Schema.migrate(pool, dialect);
            LOG.info("Job store opened: {} at {}, schema version {} ({} migration(s) applied) in {} ms",
                    dialect.folder(), redacted, result.version(), result.applied(),
                    (System.nanoTime() - started) / 1_000_000);
            return new JdbcJobStore(pool, dialect, redacted);
        } catch (RuntimeException e) {
            if (pool != null) {
                pool.close();
            }
            Throwable cause = StorePool.rootCause(e);
            throw new IllegalStateException("The job store at " + URL_SETTING + "='" + redacted
                    + "' could not be opened: " + JdbcUrls.redact(Text.firstSentence(cause.getMessage()))
                    + hint(cause) + ".", JdbcUrls.scrub(e));
        }
    }

    private static String hint(Throwable e) {
        if (e instanceof SQLException sql && sql.getErrorCode() == 90011) {
            return " (write jdbc:h2:./path for a file relative to the working directory)";
        }
        return "";
    }

    // ---------------------------------------------------------------------------------------------- claims

    @Override
    public Claim claim(JobKey key, String nodeId, Duration lease) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(nodeId, "nodeId");
        long leaseMs = leaseMillis(lease);
        // Not flushed: a claim lost to a kill -9 only means the job, which was in flight, runs again
        return withConnection("claim " + key.name(), c -> {
            Claim last = null;
            for (int round = 0; round < CLAIM_ROUNDS; round++) {
                Claim inserted = tryInsertRunning(c, key, nodeId, leaseMs);
                if (inserted != null) {
                    return inserted;
                }
                Claim taken = tryTakeOver(c, key, nodeId, leaseMs);
                if (taken != null) {
                    return taken;
                }
                // Neither: the job exists and is not claimable now; find out why. It may change in between
                // (released, deleted, its lease just ran out); then try again.
                try (PreparedStatement p = c.prepareStatement("SELECT id, state, owner, fence_token, attempts,"
                        + " CASE WHEN lease_until >= CURRENT_TIMESTAMP THEN 1 ELSE 0 END, transient_failures,"
                        + " invalid_failures, not_before, CURRENT_TIMESTAMP"
                        + " FROM sandflow_jobs WHERE name = ? AND sha256 = ?")) {
                    p.setString(1, key.name());
                    p.setString(2, key.sha256());
                    try (ResultSet rs = p.executeQuery()) {
                        if (!rs.next()) {
                            continue;
                        }
                        long id = rs.getLong(1);
                        JobState state = JobState.valueOf(rs.getString(2));
                        String owner = rs.getString(3);
                        long fence = rs.getLong(4);
                        int attempts = rs.getInt(5);
                        boolean live = rs.getInt(6) == 1;
                        switch (state) {
                            case DONE:
                                return new Claim(Claim.Status.ALREADY_DONE, id, fence, attempts);
                            case FAILED:
                                return new Claim(Claim.Status.ALREADY_FAILED, id, fence, attempts);
                            case RUNNING:
                                last = new Claim(Claim.Status.BUSY, id, fence, attempts);
                                if (live && !nodeId.equals(owner)) {
                                    return last;
                                }
                                break;
                            default:
                                // PENDING or PARKED: not claimable only while its backoff lasts
                                Instant notBefore = instant(rs, 9);
                                Instant now = instant(rs, 10);
                                if (notBefore != null && notBefore.isAfter(now)) {
                                    return new Claim(Claim.Status.NOT_DUE, id, fence, attempts, rs.getInt(7),
                                            rs.getInt(8), Duration.between(now, notBefore));
                                }
                                break;
                        }
                    }
                }
            }
            if (last != null) {
                return last;
            }
            throw new SQLException("the job changed under " + CLAIM_ROUNDS + " claim attempts in a row");
        });
    }

    private Claim tryInsertRunning(Connection c, JobKey key, String nodeId, long leaseMs) throws SQLException {
        String insert = "INSERT INTO sandflow_jobs (name, sha256, state, attempts, started_at, owner, lease_until,"
                + " fence_token) VALUES (?, ?, 'RUNNING', 0, CURRENT_TIMESTAMP, ?, " + Dialect.nowPlusMillis()
                + ", 1)";
        try (PreparedStatement p = c.prepareStatement(
                dialect.returning(dialect.insertIgnoringDuplicate(insert), "id"))) {
            p.setString(1, key.name());
            p.setString(2, key.sha256());
            p.setString(3, nodeId);
            p.setLong(4, leaseMs);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? new Claim(Claim.Status.CLAIMED, rs.getLong(1), 1, 0) : null;
            }
        } catch (SQLException e) {
            if (Dialect.isUniqueViolation(e)) {
                return null;
            }
            throw e;
        }
    }

    private Claim tryTakeOver(Connection c, JobKey key, String nodeId, long leaseMs) throws SQLException {
        String update = "UPDATE sandflow_jobs SET state = 'RUNNING', owner = ?, lease_until = "
                + Dialect.nowPlusMillis() + ", fence_token = fence_token + 1, started_at = CURRENT_TIMESTAMP,"
                + " finished_at = NULL, not_before = NULL"
                + " WHERE name = ? AND sha256 = ? AND ((state IN ('PENDING', 'PARKED')"
                + " AND (not_before IS NULL OR not_before <= CURRENT_TIMESTAMP)) OR (state = 'RUNNING'"
                + " AND (owner = ? OR lease_until IS NULL OR lease_until < CURRENT_TIMESTAMP)))";
        try (PreparedStatement p = c.prepareStatement(dialect.returning(update,
                "id, fence_token, attempts, transient_failures, invalid_failures"))) {
            p.setString(1, nodeId);
            p.setLong(2, leaseMs);
            p.setString(3, key.name());
            p.setString(4, key.sha256());
            p.setString(5, nodeId);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? new Claim(Claim.Status.CLAIMED, rs.getLong(1), rs.getLong(2), rs.getInt(3),
                        rs.getInt(4), rs.getInt(5), Duration.ZERO) : null;
            }
        }
    }

    @Override
    public boolean isOwner(long jobId, long fenceToken) {
        return withConnection("check the owner of job " + jobId, c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT COUNT(*) FROM sandflow_jobs" + FENCED)) {
                p.setLong(1, jobId);
                p.setLong(2, fenceToken);
                try (ResultSet rs = p.executeQuery()) {
                    return rs.next() && rs.getLong(1) == 1;
                }
            }
        });
    }

    @Override
    public int renewLeases(String nodeId, Duration lease) {
        Objects.requireNonNull(nodeId, "nodeId");
        long leaseMs = leaseMillis(lease);
        return update("renew the leases of " + nodeId, "UPDATE sandflow_jobs SET lease_until = "
                + Dialect.nowPlusMillis() + " WHERE owner = ? AND state = 'RUNNING'", leaseMs, nodeId);
    }

    @Override
    public boolean attemptStarted(long jobId, long fenceToken, int attempt, String sandbox) {
        return update("record an attempt of job " + jobId,
                "UPDATE sandflow_jobs SET attempts = ?, sandbox = ?" + FENCED,
                attempt, Text.fitChars(sandbox, 65536), jobId, fenceToken) == 1;
    }

    @Override
    public boolean complete(long jobId, long fenceToken, JobOutcome outcome) {
        return finish(jobId, fenceToken, JobState.DONE, outcome);
    }

    @Override
    public boolean fail(long jobId, long fenceToken, JobOutcome outcome) {
        return finish(jobId, fenceToken, JobState.FAILED, outcome);
    }

    private boolean finish(long jobId, long fenceToken, JobState state, JobOutcome o) {
        Objects.requireNonNull(o, "outcome");
        String error = Text.fitBytes(o.lastError(), Text.MAX_ERROR_BYTES);
        return inTransaction("record job " + jobId + " as " + state, c -> {
            int changed;
            try (PreparedStatement p = c.prepareStatement("UPDATE sandflow_jobs SET state = ?,"
                    + " finished_at = CURRENT_TIMESTAMP, lease_until = NULL, attempts = ?, duration_ms = ?,"
                    + " cost_usd = cost_usd + ?, input_tokens = input_tokens + ?, output_tokens = output_tokens + ?,"
                    + " turns = ?, session_id = ?, last_error = ?, failure_reason = ?, failure_class = ?,"
                    + " output_name = COALESCE(?, output_name), rerun = FALSE" + FENCED)) {
                bind(p, state.name(), o.attempts(), o.duration().toMillis(), o.costUsd(), o.inputTokens(),
                        o.outputTokens(), o.turns(), Text.fitChars(o.sessionId(), 200), error, Text.reason(error),
                        o.failureClass() == null ? null : o.failureClass().name(), o.outputName(), jobId,
                        fenceToken);
                changed = p.executeUpdate();
            }
            if (changed != 1) {
                c.rollback();
                return false;
            }
            // Totals after the job row, always in this order, so that concurrent finishes cannot deadlock.
            if (o.costUsd().signum() != 0) {
                addToTotal(c, TOTAL_COST, "NUMERIC(24, 8)", o.costUsd());
            }
            if (o.inputTokens() != 0) {
                addToTotal(c, TOTAL_INPUT_TOKENS, "BIGINT", o.inputTokens());
            }
            if (o.outputTokens() != 0) {
                addToTotal(c, TOTAL_OUTPUT_TOKENS, "BIGINT", o.outputTokens());
            }
            return true;
        });
    }

    private void addToTotal(Connection c, String key, String type, Object delta) throws SQLException {
        int changed;
        try (PreparedStatement p = c.prepareStatement("UPDATE sandflow_state SET state_value = CAST(CAST("
                + "state_value AS " + type + ") + ? AS VARCHAR(64)), updated_at = CURRENT_TIMESTAMP"
                + " WHERE state_key = ?")) {
            bind(p, delta, key);
            changed = p.executeUpdate();
        }
        if (changed == 0 && insertIgnoringDuplicate(c,
                "INSERT INTO sandflow_state (state_key, state_value) VALUES (?, ?)", key, delta.toString()) == 0) {
            addToTotal(c, key, type, delta);
        }
    }

    @Override
    public boolean park(long jobId, long fenceToken, String reason) {
        String error = Text.fitBytes(reason, Text.MAX_ERROR_BYTES);
        return updateDurably("park job " + jobId, "UPDATE sandflow_jobs SET state = 'PARKED', owner = NULL,"
                        + " lease_until = NULL, last_error = ?, failure_reason = ?, failure_class = ?" + FENCED,
                error, Text.reason(error), FailureClass.SYSTEMIC.name(), jobId, fenceToken) == 1;
    }

    @Override
    public boolean release(long jobId, long fenceToken) {
        return updateDurably("release job " + jobId,
                "UPDATE sandflow_jobs SET state = 'PENDING', owner = NULL, lease_until = NULL" + FENCED,
                jobId, fenceToken) == 1;
    }

    @Override
    public boolean retryLater(long jobId, long fenceToken, Duration wait, String reason) {
        Objects.requireNonNull(wait, "wait");
        String error = Text.fitBytes(reason, Text.MAX_ERROR_BYTES);
        // Not flushed: lost to a kill -9, the job is released at the next start and only runs sooner
        return update("put job " + jobId + " back until its backoff ends", "UPDATE sandflow_jobs SET state = 'PENDING',"
                        + " owner = NULL, lease_until = NULL, not_before = " + Dialect.nowPlusMillis() + ","
                        + " last_error = ?, failure_reason = ?, failure_class = ?" + FENCED,
                Math.max(0, wait.toMillis()), error, Text.reason(error), FailureClass.TRANSIENT.name(), jobId,
                fenceToken) == 1;
    }

    @Override
    public void recordAttempt(long jobId, AttemptOutcome a) {
        Objects.requireNonNull(a, "attempt");
        String reason = a.reason() == null ? null : Text.fitBytes(a.reason(), Text.MAX_ERROR_BYTES);
        int transientCount = a.countsAgainstRetries() && a.failureClass() == FailureClass.TRANSIENT ? 1 : 0;
        int invalidCount = a.countsAgainstRetries() && a.failureClass() == FailureClass.INVALID_OUTPUT ? 1 : 0;
        // One transaction, so that the job's counts and cost, its history row and the totals agree after a fault
        // halfway; not flushed: the job's end, moments later, carries it to disk
        inTransaction("record attempt " + a.attempt() + " of job " + jobId, c -> {
            executeUpdate(c, "UPDATE sandflow_jobs SET attempts = CASE WHEN attempts < ? THEN ? ELSE attempts END,"
                            + " cost_usd = cost_usd + ?, input_tokens = input_tokens + ?,"
                            + " output_tokens = output_tokens + ?, transient_failures = transient_failures + ?,"
                            + " invalid_failures = invalid_failures + ? WHERE id = ?", a.attempt(), a.attempt(),
                    a.costUsd(), a.inputTokens(), a.outputTokens(), transientCount, invalidCount, jobId);
            try (PreparedStatement p = c.prepareStatement("INSERT INTO sandflow_attempts (job_id, attempt,"
                    + " started_at, ended_at, exit_code, timed_out, failure_class, reason, cost_usd, input_tokens,"
                    + " output_tokens, node, sandbox) VALUES (?, ?, " + Dialect.nowPlusMillis() + ","
                    + " CURRENT_TIMESTAMP, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                p.setLong(1, jobId);
                p.setInt(2, a.attempt());
                p.setLong(3, -a.duration().toMillis());
                if (a.exitCode() == null) {
                    p.setNull(4, Types.INTEGER);
                } else {
                    p.setInt(4, a.exitCode());
                }
                p.setBoolean(5, a.timedOut());
                p.setString(6, a.failureClass() == null ? null : a.failureClass().name());
                p.setString(7, reason);
                p.setBigDecimal(8, a.costUsd());
                p.setLong(9, a.inputTokens());
                p.setLong(10, a.outputTokens());
                p.setString(11, Text.fitChars(a.node(), 200));
                p.setString(12, Text.fitChars(a.sandbox(), 65536));
                p.executeUpdate();
            }
            if (a.costUsd().signum() != 0) {
                addToTotal(c, TOTAL_COST, "NUMERIC(24, 8)", a.costUsd());
            }
            if (a.inputTokens() != 0) {
                addToTotal(c, TOTAL_INPUT_TOKENS, "BIGINT", a.inputTokens());
            }
            if (a.outputTokens() != 0) {
                addToTotal(c, TOTAL_OUTPUT_TOKENS, "BIGINT", a.outputTokens());
            }
            return null;
        }, false);
    }

    @Override
    public List<AttemptRecord> attempts(long jobId) {
        return withConnection("read the attempts of job " + jobId, c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT " + ATTEMPT_COLUMNS
                    + " FROM sandflow_attempts WHERE job_id = ? ORDER BY attempt, id")) {
                p.setLong(1, jobId);
                return attemptRows(p);
            }
        });
    }

    @Override
    public List<AttemptRecord> attemptsEndedSince(Instant since) {
        Objects.requireNonNull(since, "since");
        return withConnection("read the attempts ended since " + since, c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT " + ATTEMPT_COLUMNS
                    + " FROM sandflow_attempts WHERE ended_at >= ? ORDER BY ended_at, id")) {
                p.setObject(1, OffsetDateTime.ofInstant(since, java.time.ZoneOffset.UTC));
                return attemptRows(p);
            }
        });
    }

    private static List<AttemptRecord> attemptRows(PreparedStatement p) throws SQLException {
        List<AttemptRecord> out = new ArrayList<>();
        try (ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                int exit = rs.getInt(5);
                Integer exitCode = rs.wasNull() ? null : exit;
                String cls = rs.getString(7);
                out.add(new AttemptRecord(rs.getLong(1), rs.getInt(2), instant(rs, 3), instant(rs, 4), exitCode,
                        rs.getBoolean(6), cls == null ? null : FailureClass.valueOf(cls), rs.getString(8),
                        rs.getBigDecimal(9), rs.getLong(10), rs.getLong(11), rs.getString(12), rs.getString(13)));
            }
        }
        return out;
    }

    @Override
    public int releaseOwnedBy(String nodeId) {
        Objects.requireNonNull(nodeId, "nodeId");
        return updateDurably("release the jobs of " + nodeId,
                "UPDATE sandflow_jobs SET state = 'PENDING', owner = NULL, lease_until = NULL,"
                        + " fence_token = fence_token + 1 WHERE owner = ? AND state = 'RUNNING'", nodeId);
    }

    // ---------------------------------------------------------------------------------------------- retry, resume

    @Override
    public List<String> forgetFailed(Collection<String> names, String reasonContains) {
        List<String> wanted = names == null ? List.of() : List.copyOf(new LinkedHashSet<>(names));
        String pattern = reasonContains == null || reasonContains.isBlank() ? null
                : "%" + reasonContains.toLowerCase(Locale.ROOT).replace("!", "!!").replace("%", "!%")
                        .replace("_", "!_") + "%";
        List<List<String>> chunks = new ArrayList<>();
        if (wanted.isEmpty()) {
            chunks.add(List.of());
        } else {
            for (int i = 0; i < wanted.size(); i += IN_LIST_CHUNK) {
                chunks.add(wanted.subList(i, Math.min(wanted.size(), i + IN_LIST_CHUNK)));
            }
        }
        List<String> deleted = inTransaction("forget failed jobs", c -> {
            List<String> out = new ArrayList<>();
            for (List<String> chunk : chunks) {
                StringBuilder where = new StringBuilder(" WHERE state = 'FAILED'");
                List<Object> args = new ArrayList<>(chunk);
                if (!chunk.isEmpty()) {
                    where.append(" AND name IN (").append("?, ".repeat(chunk.size() - 1)).append("?)");
                }
                if (pattern != null) {
                    where.append(" AND LOWER(last_error) LIKE ? ESCAPE '!'");
                    args.add(pattern);
                }
                executeUpdate(c, "DELETE FROM sandflow_attempts WHERE job_id IN (SELECT id FROM sandflow_jobs"
                        + where + ")", args.toArray());
                String sql = "DELETE FROM sandflow_jobs" + where;
                try (PreparedStatement p = c.prepareStatement(dialect.returningDeleted(sql, "name"))) {
                    bind(p, args.toArray());
                    try (ResultSet rs = p.executeQuery()) {
                        while (rs.next()) {
                            out.add(rs.getString(1));
                        }
                    }
                }
            }
            return out;
        });
        if (!deleted.isEmpty()) {
            LOG.info("Forgot {} failed job(s) so that they run again", deleted.size());
        }
        return deleted;
    }

    @Override
    public void markDoneWithoutRun(JobKey key, String nodeId, String outputName) {
        Objects.requireNonNull(key, "key");
        writing("mark " + key.name() + " done", c -> {
            for (int round = 0; round < CLAIM_ROUNDS; round++) {
                // finished_at stays empty: the job did not run here, and must not count as throughput.
                if (insertIgnoringDuplicate(c, "INSERT INTO sandflow_jobs (name, sha256, state, attempts,"
                                + " owner, fence_token, output_name) VALUES (?, ?, 'DONE', 0, ?, 1, ?)",
                        key.name(), key.sha256(), nodeId, outputName) == 1) {
                    return null;
                }
                try (PreparedStatement p = c.prepareStatement("UPDATE sandflow_jobs SET state = 'DONE',"
                        + " finished_at = NULL, owner = ?, lease_until = NULL,"
                        + " fence_token = fence_token + 1, output_name = ?, rerun = FALSE"
                        + " WHERE name = ? AND sha256 = ? AND state <> 'DONE'")) {
                    bind(p, nodeId, outputName, key.name(), key.sha256());
                    p.executeUpdate();
                }
                if (find(c, key).isPresent()) {
                    return null;
                }
            }
            throw new SQLException("the job kept disappearing");
        });
    }

    @Override
    public Optional<String> reserveOutput(String inputName, String outputName) {
        Objects.requireNonNull(inputName, "inputName");
        Objects.requireNonNull(outputName, "outputName");
        // Not flushed, as a claim is not: every claim takes its name again, and the job's end, written durably,
        // carries it to disk. A kill -9 between a result's publishing and that end loses both, as it loses the claim.
        return inTransaction("take the result name " + outputName + " for " + inputName, c -> {
            insertIgnoringDuplicate(c, "INSERT INTO sandflow_outputs (output_name, name) VALUES (?, ?)", outputName,
                    inputName);
            // The row lock makes concurrent takers of one name wait for each other
            String holder;
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT name FROM sandflow_outputs WHERE output_name = ? FOR UPDATE")) {
                bind(p, outputName);
                try (ResultSet rs = p.executeQuery()) {
                    rs.next();
                    holder = rs.getString(1);
                }
            }
            if (holder.equals(inputName)) {
                return Optional.<String>empty();
            }
            try (PreparedStatement p = c.prepareStatement("SELECT COUNT(*) FROM sandflow_jobs"
                    + " WHERE name = ? AND state <> 'FAILED'")) {
                bind(p, holder);
                try (ResultSet rs = p.executeQuery()) {
                    rs.next();
                    if (rs.getLong(1) > 0) {
                        return Optional.of(holder);
                    }
                }
            }
            // Its holder only ever failed (or was forgotten): the name is free for another input
            executeUpdate(c, "UPDATE sandflow_outputs SET name = ? WHERE output_name = ?", inputName, outputName);
            return Optional.<String>empty();
        }, false);
    }

    @Override
    public boolean reopen(long jobId, long fenceToken) {
        return update("reopen job " + jobId, "UPDATE sandflow_jobs SET state = 'PENDING', owner = NULL,"
                + " lease_until = NULL, attempts = 0, transient_failures = 0, invalid_failures = 0, not_before = NULL,"
                + " fence_token = fence_token + 1"
                + " WHERE id = ? AND fence_token = ? AND state IN ('DONE', 'FAILED')", jobId, fenceToken) == 1;
    }

    @Override
    public void requestRerun(JobKey key) {
        Objects.requireNonNull(key, "key");
        inTransaction("ask for a rerun of " + key.name(), c -> {
            if (insertIgnoringDuplicate(c, "INSERT INTO sandflow_jobs (name, sha256, state, attempts, rerun)"
                    + " VALUES (?, ?, 'PENDING', 0, TRUE)", key.name(), key.sha256()) == 1) {
                return null;
            }
            executeUpdate(c, "UPDATE sandflow_jobs SET rerun = TRUE WHERE name = ? AND sha256 = ?", key.name(),
                    key.sha256());
            // A running or waiting job keeps its state: it runs anyway, and now replaces the result when it ends
            executeUpdate(c, "UPDATE sandflow_jobs SET state = 'PENDING', owner = NULL, lease_until = NULL,"
                    + " attempts = 0, transient_failures = 0, invalid_failures = 0, not_before = NULL,"
                    + " fence_token = fence_token + 1 WHERE name = ? AND sha256 = ?"
                    + " AND state IN ('DONE', 'FAILED')", key.name(), key.sha256());
            return null;
        });
    }

    @Override
    public boolean rerunRequested(long jobId) {
        return withConnection("read the rerun mark of job " + jobId, c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT rerun FROM sandflow_jobs WHERE id = ?")) {
                bind(p, jobId);
                try (ResultSet rs = p.executeQuery()) {
                    return rs.next() && rs.getBoolean(1);
                }
            }
        });
    }

    // ---------------------------------------------------------------------------------------------- reading

    @Override
    public Optional<JobRecord> find(JobKey key) {
        Objects.requireNonNull(key, "key");
        return withConnection("find " + key.name(), c -> find(c, key));
    }

    private Optional<JobRecord> find(Connection c, JobKey key) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT " + COLUMNS
                + " FROM sandflow_jobs WHERE name = ? AND sha256 = ?")) {
            bind(p, key.name(), key.sha256());
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? Optional.of(job(rs)) : Optional.empty();
            }
        }
    }

    @Override
    public List<JobRecord> findByName(String name) {
        Objects.requireNonNull(name, "name");
        return withConnection("find " + name, c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT " + COLUMNS
                    + " FROM sandflow_jobs WHERE name = ? ORDER BY id")) {
                bind(p, name);
                List<JobRecord> out = new ArrayList<>();
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        out.add(job(rs));
                    }
                }
                return out;
            }
        });
    }

    @Override
    public Optional<JobRecord> job(long jobId) {
        return withConnection("find job " + jobId, c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT " + COLUMNS + " FROM sandflow_jobs WHERE id = ?")) {
                p.setLong(1, jobId);
                try (ResultSet rs = p.executeQuery()) {
                    return rs.next() ? Optional.of(job(rs)) : Optional.empty();
                }
            }
        });
    }

    @Override
    public List<JobRecord> jobs() {
        return withConnection("read every job", c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT " + COLUMNS + " FROM sandflow_jobs ORDER BY id")) {
                List<JobRecord> out = new ArrayList<>();
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        out.add(job(rs));
                    }
                }
                return out;
            }
        });
    }

    @Override
    public StatusSnapshot status(int topReasons) {
        return withConnection("read the status", c -> {
            Instant now;
            try (PreparedStatement p = c.prepareStatement("SELECT CURRENT_TIMESTAMP");
                 ResultSet rs = p.executeQuery()) {
                rs.next();
                now = instant(rs, 1);
            }
            Map<JobState, Long> counts = new EnumMap<>(JobState.class);
            for (JobState s : JobState.values()) {
                counts.put(s, 0L);
            }
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT state, COUNT(*) FROM sandflow_jobs GROUP BY state");
                 ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    counts.put(JobState.valueOf(rs.getString(1)), rs.getLong(2));
                }
            }
            counts.merge(JobState.DONE, -skippedBesideAnotherJob(c), Long::sum);
            // Two range counts on (state, finished_at) rather than one scan with a CASE: each reads index
            // entries only, and the 10-minute range is a sixth of the hour's.
            long lastHour = countDoneSince(c, Duration.ofHours(1));
            long last10 = countDoneSince(c, Duration.ofMinutes(10));
            Map<String, String> totals = new java.util.HashMap<>();
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT state_key, state_value FROM sandflow_state WHERE state_key IN (?, ?, ?)")) {
                bind(p, TOTAL_COST, TOTAL_INPUT_TOKENS, TOTAL_OUTPUT_TOKENS);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        totals.put(rs.getString(1), rs.getString(2));
                    }
                }
            }
            List<StatusSnapshot.FailureReason> reasons = new ArrayList<>();
            if (topReasons > 0) {
                try (PreparedStatement p = c.prepareStatement("SELECT state, failure_reason, COUNT(*) AS n"
                        + " FROM sandflow_jobs WHERE state IN ('FAILED', 'PARKED') GROUP BY state, failure_reason"
                        + " ORDER BY n DESC, state, failure_reason LIMIT ?")) {
                    bind(p, topReasons);
                    try (ResultSet rs = p.executeQuery()) {
                        while (rs.next()) {
                            reasons.add(new StatusSnapshot.FailureReason(JobState.valueOf(rs.getString(1)),
                                    rs.getString(2), rs.getLong(3), List.of()));
                        }
                    }
                }
                for (int i = 0; i < reasons.size(); i++) {
                    StatusSnapshot.FailureReason r = reasons.get(i);
                    reasons.set(i, new StatusSnapshot.FailureReason(r.state(), r.reason(), r.count(),
                            sampleNames(c, r.state(), r.reason())));
                }
            }
            return new StatusSnapshot(now, counts, decimal(totals.get(TOTAL_COST)),
                    number(totals.get(TOTAL_INPUT_TOKENS)), number(totals.get(TOTAL_OUTPUT_TOKENS)), last10,
                    lastHour, reasons, nodesWithRunningJobs(c), recentFinishes(c));
        });
    }

    /**
     * DONE jobs recorded without a run (their output was there) for a name that has another job: a re-dropped input
     * skipped for its result, which is that other job's result, not a job of its own. Read off the (state,
     * finished_at) index, as such rows have no finish time, then the name index.
     */
    private long skippedBesideAnotherJob(Connection c) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT COUNT(*) FROM sandflow_jobs j WHERE j.state = 'DONE'"
                + " AND j.finished_at IS NULL AND EXISTS (SELECT 1 FROM sandflow_jobs o WHERE o.name = j.name"
                + " AND o.id <> j.id)");
             ResultSet rs = p.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The newest finish times of DONE and FAILED jobs, each read off the (state, finished_at) index. */
    private List<Instant> recentFinishes(Connection c) throws SQLException {
        List<Instant> out = new ArrayList<>();
        for (JobState state : List.of(JobState.DONE, JobState.FAILED)) {
            try (PreparedStatement p = c.prepareStatement("SELECT finished_at FROM sandflow_jobs WHERE state = ?"
                    + " AND finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT "
                    + StatusSnapshot.RECENT_FINISHES)) {
                bind(p, state.name());
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        out.add(instant(rs, 1));
                    }
                }
            }
        }
        out.sort(java.util.Comparator.reverseOrder());
        return out.size() > StatusSnapshot.RECENT_FINISHES ? out.subList(0, StatusSnapshot.RECENT_FINISHES) : out;
    }

    /** The nodes, each with the jobs the store has RUNNING under its name (its own report ages between heartbeats). */
    private List<NodeRecord> nodesWithRunningJobs(Connection c) throws SQLException {
        Map<String, Integer> running = new java.util.HashMap<>();
        try (PreparedStatement p = c.prepareStatement("SELECT owner, COUNT(*) FROM sandflow_jobs"
                + " WHERE state = 'RUNNING' AND owner IS NOT NULL GROUP BY owner");
             ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                running.put(rs.getString(1), rs.getInt(2));
            }
        }
        List<NodeRecord> out = new ArrayList<>();
        for (NodeRecord n : nodes(c)) {
            out.add(new NodeRecord(n.nodeId(), n.host(), n.startedAt(), n.heartbeatAt(),
                    running.getOrDefault(n.nodeId(), 0), n.stoppedAt()));
        }
        return out;
    }

    private long countDoneSince(Connection c, Duration window) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT COUNT(*) FROM sandflow_jobs"
                + " WHERE state = 'DONE' AND finished_at >= " + Dialect.nowPlusMillis())) {
            bind(p, -window.toMillis());
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private List<String> sampleNames(Connection c, JobState state, String reason) throws SQLException {
        String sql = "SELECT name FROM sandflow_jobs WHERE state = ? AND failure_reason "
                + (reason == null ? "IS NULL" : "= ?") + " ORDER BY name LIMIT " + SAMPLE_NAMES;
        try (PreparedStatement p = c.prepareStatement(sql)) {
            if (reason == null) {
                bind(p, state.name());
            } else {
                bind(p, state.name(), reason);
            }
            List<String> names = new ArrayList<>();
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    names.add(rs.getString(1));
                }
            }
            return names;
        }
    }

    // ---------------------------------------------------------------------------------------------- nodes, state

    @Override
    public void heartbeat(String nodeId, String host, int runningJobs) {
        Objects.requireNonNull(nodeId, "nodeId");
        withConnection("record the heartbeat of " + nodeId, c -> {
            upsert(c, "UPDATE sandflow_nodes SET host = ?, heartbeat_at = CURRENT_TIMESTAMP, running_jobs = ?"
                            + " WHERE node_id = ?", new Object[] {host, runningJobs, nodeId},
                    "INSERT INTO sandflow_nodes (node_id, host, running_jobs) VALUES (?, ?, ?)",
                    new Object[] {nodeId, host, runningJobs});
            return null;
        });
    }

    @Override
    public void nodeStarted(String nodeId, String host) {
        Objects.requireNonNull(nodeId, "nodeId");
        withConnection("record the start of " + nodeId, c -> {
            upsert(c, "UPDATE sandflow_nodes SET host = ?, started_at = CURRENT_TIMESTAMP,"
                            + " heartbeat_at = CURRENT_TIMESTAMP, running_jobs = 0, stopped_at = NULL WHERE node_id = ?",
                    new Object[] {host, nodeId},
                    "INSERT INTO sandflow_nodes (node_id, host, running_jobs) VALUES (?, ?, 0)",
                    new Object[] {nodeId, host});
            return null;
        });
    }

    @Override
    public void nodeStopped(String nodeId) {
        Objects.requireNonNull(nodeId, "nodeId");
        updateDurably("record the stop of " + nodeId, "UPDATE sandflow_nodes SET stopped_at = CURRENT_TIMESTAMP,"
                + " running_jobs = 0 WHERE node_id = ?", nodeId);
    }

    @Override
    public List<NodeRecord> nodes() {
        return withConnection("list the nodes", this::nodes);
    }

    private List<NodeRecord> nodes(Connection c) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT node_id, host, started_at, heartbeat_at,"
                + " running_jobs, stopped_at FROM sandflow_nodes ORDER BY node_id");
             ResultSet rs = p.executeQuery()) {
            List<NodeRecord> out = new ArrayList<>();
            while (rs.next()) {
                out.add(new NodeRecord(rs.getString(1), rs.getString(2), instant(rs, 3), instant(rs, 4),
                        rs.getInt(5), instant(rs, 6)));
            }
            return out;
        }
    }

    @Override
    public Optional<String> getState(String key) {
        Objects.requireNonNull(key, "key");
        return withConnection("read state " + key, c -> {
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT state_value FROM sandflow_state WHERE state_key = ?")) {
                bind(p, key);
                try (ResultSet rs = p.executeQuery()) {
                    return rs.next() ? Optional.ofNullable(rs.getString(1)) : Optional.empty();
                }
            }
        });
    }

    @Override
    public void putState(String key, String value) {
        Objects.requireNonNull(key, "key");
        if (key.startsWith(RESERVED_STATE_PREFIX)) {
            throw new IllegalArgumentException("state keys starting with '" + RESERVED_STATE_PREFIX
                    + "' are the store's own totals: " + key);
        }
        writing("write state " + key, c -> {
            upsert(c, "UPDATE sandflow_state SET state_value = ?, updated_at = CURRENT_TIMESTAMP WHERE state_key = ?",
                    new Object[] {value, key},
                    "INSERT INTO sandflow_state (state_key, state_value) VALUES (?, ?)", new Object[] {key, value});
            return null;
        });
    }

    @Override
    public BigDecimal totalCostUsd() {
        return decimal(getState(TOTAL_COST).orElse(null));
    }

    @Override
    public String databaseKind() {
        return dialect.folder();
    }

    @Override
    public void close() {
        pool.close();
    }

    @Override
    public String toString() {
        return "JobStore[" + redactedUrl + "]";
    }

    // ---------------------------------------------------------------------------------------------- JDBC helpers

    @FunctionalInterface
    private interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private <T> T withConnection(String operation, Work<T> work) {
        // A connection that broke (network, terminated backend, a closed H2 database) is dropped by the pool when
        // it is closed here; the next borrow opens a new one, so the store reconnects by itself
        try (Connection c = pool.getConnection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw failure(operation, e);
        } catch (RuntimeException | AssertionError e) {
            if (!fromTheDatabase(e)) {
                throw e;
            }
            throw new StoreException("Job store: could not " + operation + ": "
                    + JdbcUrls.redact(Text.firstSentence(String.valueOf(e.getMessage()))), JdbcUrls.scrub(e));
        }
    }

    /**
     * H2 reports some faults of its file (a full disk, a database it closed) as unchecked exceptions and, with
     * assertions on, as an AssertionError from its storage layer; those are store faults, unlike a bug here.
     */
    private static boolean fromTheDatabase(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String name = t.getClass().getName();
            if (name.startsWith("org.h2.") || name.startsWith("org.postgresql.") || name.startsWith("com.zaxxer.")) {
                return true;
            }
            if (t instanceof AssertionError && java.util.Arrays.stream(t.getStackTrace())
                    .anyMatch(f -> f.getClassName().startsWith("org.h2."))) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void probe() {
        writing("write to the store", c -> {
            upsert(c, "UPDATE sandflow_state SET updated_at = CURRENT_TIMESTAMP WHERE state_key = ?",
                    new Object[] {PROBE_KEY}, "INSERT INTO sandflow_state (state_key, state_value) VALUES (?, ?)",
                    new Object[] {PROBE_KEY, ""});
            return null;
        });
    }

    /**
     * As {@link #withConnection}, for a change the daemon acts on next (it moves a file, or a restart must see the
     * job's end): the change, and every commit before it, is on disk when this returns. Claims, attempt numbers,
     * leases and heartbeats are not flushed themselves; the next durable write carries them.
     */
    private <T> T writing(String operation, Work<T> work) {
        return withConnection(operation, c -> {
            T result = work.run(c);
            flush(c);
            return result;
        });
    }

    /**
     * Embedded H2 writes a commit to its file in the background, up to WRITE_DELAY later, so a kill -9 would lose
     * the last moments of the ledger while the files they describe have already moved. CHECKPOINT writes it now.
     * This is used instead of WRITE_DELAY=0, which would also stop H2's background thread, the one that rewrites
     * half-empty chunks: without it a long run's store file and chunk table grow with every job.
     */
    private void flush(Connection c) throws SQLException {
        if (dialect == Dialect.H2) {
            try (Statement s = c.createStatement()) {
                s.execute("CHECKPOINT");
            }
        }
    }

    private <T> T inTransaction(String operation, Work<T> work) {
        return inTransaction(operation, work, true);
    }

    /** As {@link #inTransaction(String, Work)}; not durable, the commit rides along with the next durable write. */
    private <T> T inTransaction(String operation, Work<T> work, boolean durable) {
        return withConnection(operation, c -> {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                if (durable) {
                    flush(c);
                }
                return result;
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            } finally {
                try {
                    c.setAutoCommit(true);
                } catch (SQLException ignored) {
                    // the pool checks the connection when it comes back
                }
            }
        });
    }

    private StoreException failure(String operation, SQLException e) {
        // The pool's "no connection available" says less than the failure behind it (refused, unknown host)
        SQLException said = e instanceof java.sql.SQLTransientConnectionException
                && e.getCause() instanceof SQLException cause ? cause : e;
        return new StoreException("Job store: could not " + operation + ": "
                + JdbcUrls.redact(Text.firstSentence(said.getMessage())) + " [SQLState " + said.getSQLState() + "]",
                JdbcUrls.scrub(e));
    }

    /** A single-statement write that may be lost to a kill -9 (a lease renewal, an attempt number). */
    private int update(String operation, String sql, Object... args) {
        return withConnection(operation, c -> executeUpdate(c, sql, args));
    }

    /** A single-statement write that is on disk when this returns. */
    private int updateDurably(String operation, String sql, Object... args) {
        return writing(operation, c -> executeUpdate(c, sql, args));
    }

    private static int executeUpdate(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(sql)) {
            bind(p, args);
            return p.executeUpdate();
        }
    }

    /** Runs the INSERT unless its key exists; returns how many rows it inserted. */
    private int insertIgnoringDuplicate(Connection c, String insert, Object... args) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(dialect.insertIgnoringDuplicate(insert))) {
            bind(p, args);
            return p.executeUpdate();
        } catch (SQLException e) {
            if (Dialect.isUniqueViolation(e)) {
                return 0;
            }
            throw e;
        }
    }

    /** UPDATE the row, else INSERT it, else (someone inserted it meanwhile) UPDATE it. */
    private void upsert(Connection c, String update, Object[] updateArgs, String insert, Object[] insertArgs)
            throws SQLException {
        for (int round = 0; round < 3; round++) {
            try (PreparedStatement p = c.prepareStatement(update)) {
                bind(p, updateArgs);
                if (p.executeUpdate() > 0) {
                    return;
                }
            }
            if (insertIgnoringDuplicate(c, insert, insertArgs) > 0) {
                return;
            }
        }
        throw new SQLException("the row kept changing between update and insert");
    }

    private static void bind(PreparedStatement p, Object... args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            int index = i + 1;
            if (a == null) {
                p.setNull(index, Types.VARCHAR);
            } else if (a instanceof String s) {
                p.setString(index, s);
            } else if (a instanceof Long l) {
                p.setLong(index, l);
            } else if (a instanceof Integer n) {
                p.setInt(index, n);
            } else if (a instanceof BigDecimal d) {
                p.setBigDecimal(index, d);
            } else {
                throw new IllegalArgumentException("cannot bind a " + a.getClass().getName());
            }
        }
    }

    private static JobRecord job(ResultSet rs) throws SQLException {
        long durationMs = rs.getLong(9);
        Long duration = rs.wasNull() ? null : durationMs;
        String failureClass = rs.getString(17);
        return new JobRecord(rs.getLong(1), rs.getString(2), rs.getString(3), JobState.valueOf(rs.getString(4)),
                rs.getInt(5), instant(rs, 6), instant(rs, 7), instant(rs, 8), duration, rs.getBigDecimal(10),
                rs.getLong(11), rs.getLong(12), rs.getInt(13), rs.getString(14), rs.getString(15), rs.getString(16),
                failureClass == null ? null : FailureClass.valueOf(failureClass), rs.getString(18), instant(rs, 19),
                rs.getLong(20), rs.getString(21), rs.getString(22));
    }

    private static Instant instant(ResultSet rs, int column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    private static BigDecimal decimal(String s) {
        return s == null || s.isBlank() ? BigDecimal.ZERO : new BigDecimal(s.strip()).stripTrailingZeros();
    }

    private static long number(String s) {
        return s == null || s.isBlank() ? 0L : new BigDecimal(s.strip()).longValueExact();
    }

    private static long leaseMillis(Duration lease) {
        Objects.requireNonNull(lease, "lease");
        if (lease.isNegative() || lease.isZero()) {
            throw new IllegalArgumentException("a lease must be positive, but is " + lease);
        }
        return lease.toMillis();
    }
}
