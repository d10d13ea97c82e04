package io.sandflow.store;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.io.TempDir;

/** The store contract on an embedded H2 file. */
class H2JobStoreTest extends JobStoreContract {

    private static final AtomicInteger DATABASES = new AtomicInteger();

    @TempDir
    Path dir;

    @Override
    String freshUrl() {
        return "jdbc:h2:" + dir.resolve("sandflow-" + DATABASES.incrementAndGet()).toAbsolutePath();
    }

    @Override
    String user() {
        return "sa";
    }

    @Override
    String password() {
        return "";
    }

    @Override
    String series(long from, long to) {
        return "(SELECT X AS x FROM SYSTEM_RANGE(" + from + ", " + to + ")) g";
    }

    @Override
    String afterBulkLoad() {
        return "ANALYZE";
    }
}
