package io.sandflow.cli;

import io.sandflow.store.JobStore;
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
 * {@code sandflow status} on a ledger of 100,000 jobs, while a daemon holds the store, answers and exits in under a
 * second (the bound).
 */
class StatusLatencyTest {

    @TempDir
    Path dir;

    @Test
    void statusAnswersInUnderASecondOnAHundredThousandJobs() throws Exception {
        String url = "jdbc:h2:" + dir.resolve("data/sandflow") + ";AUTO_SERVER=TRUE";
        long millis;
        long withClose;
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
            status();
            long start = System.nanoTime();
            json = status();
            millis = (answeredAt - start) / 1_000_000;
            withClose = (System.nanoTime() - start) / 1_000_000;
        }

        assertThat(json).contains("\"done\" : 87500").contains("\"failed\" : 5000");
        System.out.println("status --json on 100,000 jobs: answered in " + millis + " ms, exited in " + withClose
                + " ms; " + json.replaceAll("(?s).*(\"readMillis\" : \\d+).*", "$1"));
        assertThat(withClose).isLessThan(1000);
    }

    /** When the command printed its answer; closing the embedded database afterwards is not waited on by a reader. */
    private volatile long answeredAt;

    private String status() {
        StringWriter out = new StringWriter();
        PrintWriter timed = new PrintWriter(out) {
            @Override
            public void flush() {
                super.flush();
                answeredAt = System.nanoTime();
            }
        };
        assertThat(Sandflow.execute(timed, "-C", dir.toString(), "-Dsandflow.sandbox.kind=none",
                "-Dsandflow.sandbox.allow-unsandboxed=true", "status", "--json")).isZero();
        return out.toString();
    }
}
