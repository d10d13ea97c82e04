package io.sandflow.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.sandflow.job.JobKey;
import io.sandflow.job.JobState;
import io.sandflow.store.JobStore.Claim;

/**
 * The embedded H2 store keeps its two promises at once: a commit is on disk when the call returns (a kill -9 just
 * after it loses nothing), and a long run does not pile up half-empty chunks (H2's background compaction runs).
 */
@Tag("process")
class H2DurabilityTest {

    @TempDir
    Path dir;

    @Test
    void aFinishedJobSurvivesAKillRightAfterTheCall() throws Exception {
        String url = "jdbc:h2:" + dir.resolve("ledger").toAbsolutePath();
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", classPath(), HaltAfterCommit.class.getName(), url));
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).as(out).isEqualTo(HaltAfterCommit.HALT_STATUS);
        assertThat(out).contains("completed job");

        try (JobStore store = JobStore.open(url, "sa", "")) {
            JobRecord job = store.find(HaltAfterCommit.KEY).orElseThrow(() -> new AssertionError(
                    "the job's row was lost with the kill; child said: " + out));
            assertThat(job.state()).isEqualTo(JobState.DONE);
            assertThat(job.outputName()).isEqualTo("a.out.json");
        }
    }

    @Test
    void aLongRunKeepsTheChunkCountBounded() throws Exception {
        // RETENTION_TIME=0 lets H2 reuse a dead chunk at once, so that the test need not wait out the default 45 s.
        String url = "jdbc:h2:" + dir.resolve("soak").toAbsolutePath() + ";RETENTION_TIME=0";
        int jobs = 2_000;
        try (JobStore store = JobStore.open(url, "sa", "");
             Connection jdbc = DriverManager.getConnection(url, "sa", "")) {
            for (int i = 0; i < jobs; i++) {
                JobKey key = new JobKey("file-" + i + ".json", JobKey.sha256(("body " + i).getBytes()));
                Claim claim = store.claim(key, "node-1", Duration.ofMinutes(5));
                assertThat(store.attemptStarted(claim.jobId(), claim.fenceToken(), 1, "srt")).isTrue();
                assertThat(store.complete(claim.jobId(), claim.fenceToken(), outcome("file-" + i + ".out.json")))
                        .isTrue();
            }
            long chunks = chunkCount(jdbc);
            // Only the writes the daemon acts on are flushed, about one chunk per job, and H2's background thread
            // rewrites the half-empty ones: 75 to 160 chunks here. With WRITE_DELAY=0, which stops that thread and
            // writes a chunk per commit, the same run leaves about 750.
            assertThat(chunks).as("H2 chunks after %d jobs", jobs).isLessThan(300);
            assertThat(store.status(0).counts().get(JobState.DONE)).isEqualTo((long) jobs);
        }
    }

    private static long chunkCount(Connection c) throws Exception {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS"
                     + " WHERE SETTING_NAME = 'info.CHUNK_COUNT'")) {
            assertThat(rs.next()).isTrue();
            return Long.parseLong(rs.getString(1));
        }
    }

    static JobOutcome outcome(String output) {
        return new JobOutcome(1, Duration.ofMillis(5), new BigDecimal("0.001"), 10, 20, 1, "session", null,
                null, output);
    }

    private static String classPath() {
        return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(e -> !e.isBlank()).collect(Collectors.joining(File.pathSeparator));
    }

    /** Runs in a child JVM: finishes one job, then dies the way kill -9 kills, with no shutdown hooks. */
    static final class HaltAfterCommit {
        static final int HALT_STATUS = 77;
        static final JobKey KEY = new JobKey("a.json", JobKey.sha256("a".getBytes()));

        public static void main(String[] args) {
            JobStore store = JobStore.open(args[0], "sa", "");
            Claim claim = store.claim(KEY, "node-1", Duration.ofMinutes(5));
            if (!store.complete(claim.jobId(), claim.fenceToken(), outcome("a.out.json"))) {
                System.out.println("could not complete");
                System.exit(1);
            }
            System.out.println("completed job " + claim.jobId());
            System.out.flush();
            Runtime.getRuntime().halt(HALT_STATUS);
        }
    }
}
