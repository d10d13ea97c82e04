package io.sandflow.bench;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.sandflow.cli.Sandflow;
import io.sandflow.config.SandflowConfig;
import io.sandflow.flow.Breaker;
import io.sandflow.store.JobStore;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;

/**
 * The wall-clock bars that are not the tests' to check (bench/bounds.sh runs it): how long {@code status} takes on
 * 100,000 jobs while a daemon holds the store, how long the store's status query takes on 50,000 rows, and when a
 * breaker opened until a reset time lets its probe through. Prints one line per figure with its bar.
 */
public final class Bounds {

    private Bounds() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("sandflow-bounds");
        statusOnAHundredThousandJobs(dir.resolve("status"));
        storeStatusOnFiftyThousandRows(dir.resolve("store"));
        breakerResetWindow();
    }

    private static void statusOnAHundredThousandJobs(Path dir) throws Exception {
        String url = "jdbc:h2:" + dir.resolve("data/sandflow") + ";AUTO_SERVER=TRUE";
        try (JobStore daemon = JobStore.open(url, null, null); Connection c = DriverManager.getConnection(url);
             Statement s = c.createStatement()) {
            s.execute("INSERT INTO sandflow_jobs (name, sha256, state, finished_at, failure_reason, last_error)"
                    + " SELECT 'f' || X || '.json', LPAD(CAST(X AS VARCHAR), 64, '0'),"
                    + " CASE WHEN MOD(X, 20) = 0 THEN 'FAILED' WHEN MOD(X, 20) = 1 THEN 'PENDING'"
                    + "      WHEN MOD(X, 40) = 2 THEN 'PARKED' ELSE 'DONE' END,"
                    + " DATEADD('MINUTE', -MOD(X, 600), CURRENT_TIMESTAMP),"
                    + " CASE WHEN MOD(X, 20) = 0 THEN 'reason ' || MOD(X / 20, 20) END,"
                    + " CASE WHEN MOD(X, 20) = 0 THEN 'reason ' || MOD(X / 20, 20) END"
                    + " FROM SYSTEM_RANGE(1, 100000)");
            status(dir);
            long start = System.nanoTime();
            status(dir);
            long ms = (System.nanoTime() - start) / 1_000_000;
            System.out.printf("status --json on 100,000 jobs while a daemon holds the store: %d ms (bar: under 1000 ms)"
                    + " %s%n", ms, ms < 1000 ? "met" : "MISSED");
        }
    }

    private static void status(Path dir) {
        int code = Sandflow.execute(new PrintWriter(new StringWriter()), "-C", dir.toString(),
                "-Dsandflow.sandbox.kind=none", "-Dsandflow.sandbox.allow-unsandboxed=true", "status", "--json");
        if (code != 0) {
            throw new IllegalStateException("status exited " + code);
        }
    }

    private static void storeStatusOnFiftyThousandRows(Path dir) throws Exception {
        String url = "jdbc:h2:" + dir.resolve("data/sandflow");
        try (JobStore store = JobStore.open(url, null, null); Connection c = DriverManager.getConnection(url);
             Statement s = c.createStatement()) {
            s.execute("INSERT INTO sandflow_jobs (name, sha256, state, attempts, started_at, finished_at, cost_usd,"
                    + " input_tokens, output_tokens, last_error, failure_reason, failure_class, fence_token)"
                    + " SELECT 'bulk-' || X || '.txt', 'sha-' || X,"
                    + " CASE MOD(X, 20) WHEN 0 THEN 'FAILED' WHEN 1 THEN 'PARKED' WHEN 2 THEN 'PENDING' ELSE 'DONE' END,"
                    + " 1, CURRENT_TIMESTAMP, DATEADD('SECOND', -MOD(X * 7919, 2592000), CURRENT_TIMESTAMP), 0.01,"
                    + " 1000, 100, 'reason ' || MOD(X, 37), 'reason ' || MOD(X, 37), 'PERMANENT', 1"
                    + " FROM SYSTEM_RANGE(1, 50000)");
            long best = Long.MAX_VALUE;
            for (int i = 0; i < 5; i++) {
                long t = System.nanoTime();
                store.status(10);
                best = Math.min(best, System.nanoTime() - t);
            }
            long ms = best / 1_000_000;
            System.out.printf("the store's status query on 50,000 rows (H2), best of 5: %d ms (bar: under 1000 ms) %s%n",
                    ms, ms < 1000 ? "met" : "MISSED");
        }
    }

    private static void breakerResetWindow() throws InterruptedException {
        Duration openFor = Duration.ofMillis(200);
        Breaker breaker = new Breaker(new SandflowConfig.Breaker(50, 10, 4, openFor));
        Instant opened = Instant.now();
        Instant reset = opened.plusMillis(1500);
        breaker.openUntil(reset, "a usage limit");
        Instant halfOpen = null;
        Instant lastOpen = opened;
        while (halfOpen == null && Duration.between(opened, Instant.now()).toSeconds() < 10) {
            if (breaker.state() == CircuitBreaker.State.OPEN) {
                lastOpen = Instant.now();
            } else if (breaker.state() == CircuitBreaker.State.HALF_OPEN) {
                halfOpen = Instant.now();
            }
            Thread.sleep(10);
        }
        long openMs = Duration.between(opened, lastOpen).toMillis();
        long lateMs = halfOpen == null ? -1 : Duration.between(reset, halfOpen).toMillis();
        boolean met = openMs >= openFor.toMillis() + 1000 && lateMs >= -20 && lateMs <= 300;
        System.out.printf("a breaker opened until a reset 1500 ms away with open-for 200 ms: OPEN for %d ms, HALF_OPEN "
                + "%d ms after the reset (bar: OPEN at least 1200 ms, HALF_OPEN 0 to 300 ms after the reset) %s%n",
                openMs, lateMs, met ? "met" : "MISSED");
    }
}
