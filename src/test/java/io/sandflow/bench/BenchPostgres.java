package io.sandflow.bench;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;

/**
 * A throw-away PostgreSQL server for the cluster benchmark (bench/cluster.sh): prints its JDBC URL on a line
 * {@code JDBC_URL=…} (log lines may come before it), then runs until its stdin closes. The same embedded server the tests use; nothing to install.
 */
public final class BenchPostgres {

    private BenchPostgres() {
    }

    public static void main(String[] args) throws IOException {
        try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().start()) {
            System.out.println("JDBC_URL=" + postgres.getJdbcUrl("postgres", "postgres"));
            System.out.flush();
            while (System.in.read() >= 0) {
                // wait for the benchmark to close our stdin
            }
        }
    }
}
