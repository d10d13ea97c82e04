package io.sandflow.cli;

import io.sandflow.store.JobStore;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code sandflow status} on a ledger of 100,000 jobs, while a daemon holds the store, answers with every count right.
 * How fast it answers is bench/bounds.sh's to measure.
 */
@Tag("process")
class StatusOnALargeLedgerTest {

    @TempDir
    Path dir;

    @Test
    void statusCountsAHundredThousandJobsWhileADaemonHoldsTheStore() throws Exception {
        String url = "jdbc:h2:" + dir.resolve("data/sandflow") + ";AUTO_SERVER=TRUE";
        String json;
        // As while the daemon runs: it holds the database, and status connects through it (AUTO_SERVER)
        try (JobStore daemon = JobStore.open(url, null, null); Connection c = DriverManager.getConnection(url);
             Statement s = c.createStatement()) {
            // 87.5% done (finished over the last ten hours), 5% failed over 20 reasons, the rest pending or parked
            s.execute("INSERT INTO sandflow_jobs (name, sha256, state, finished_at, failure_reason, last_error)"
                    + " SELECT 'f' || X || '.json', LPAD(CAST(X AS VARCHAR), 64, '0'),"
                    + " CASE WHEN MOD(X, 20) = 0 THEN 'FAILED' WHEN MOD(X, 20) = 1 THEN 'PENDING'"
                    + "      WHEN MOD(X, 40) = 2 THEN 'PARKED' ELSE 'DONE' END,"
                    + " DATEADD('MINUTE', -MOD(X, 600), CURRENT_TIMESTAMP),"
                    + " CASE WHEN MOD(X, 20) = 0 THEN 'reason ' || MOD(X / 20, 20) END,"
                    + " CASE WHEN MOD(X, 20) = 0 THEN 'reason ' || MOD(X / 20, 20) END"
                    + " FROM SYSTEM_RANGE(1, 100000)");
            json = status();
        }

        assertThat(json).contains("\"done\" : 87500").contains("\"failed\" : 5000").contains("\"parked\" : 2500");
    }

    private String status() {
        StringWriter out = new StringWriter();
        assertThat(Sandflow.execute(new PrintWriter(out), "-C", dir.toString(), "-Dsandflow.sandbox.kind=none",
                "-Dsandflow.sandbox.allow-unsandboxed=true", "status", "--json")).isZero();
        return out.toString();
    }
}
