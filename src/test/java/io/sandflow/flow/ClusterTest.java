package io.sandflow.flow;

import io.sandflow.job.JobState;
import io.sandflow.store.JobRecord;
import io.sandflow.store.JobStore;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Three Sandflow nodes as real processes over one shared inbox and one real PostgreSQL job store. One node is
 * killed with SIGKILL mid-run; the others take its jobs over when its lease expires, and every input still ends
 * in exactly one place with its output written once.
 */
@Tag("process")
class ClusterTest {

    private static final int FILES = 300;
    private static final Duration LEASE = Duration.ofSeconds(3);
    private static EmbeddedPostgres postgres;

    @TempDir
    Path dir;

    @BeforeAll
    static void startPostgres() throws IOException {
        postgres = EmbeddedPostgres.builder().start();
    }

    @AfterAll
    static void stopPostgres() throws IOException {
        if (postgres != null) {
            postgres.close();
        }
    }

    private String url() {
        return postgres.getJdbcUrl("postgres", "postgres");
    }

    @Test
    void aKilledNodesJobsAreFinishedByTheOthersAndEveryOutputIsWrittenOnce() throws Exception {
        Path shared = Files.createDirectories(dir.resolve("shared"));
        Workdir seed = new Workdir(shared);
        for (int i = 0; i < FILES; i++) {
            seed.ask(String.format("input-%03d.json", i), "slow");
        }
        Map<String, String> env = Map.of("SANDFLOW_STORE_USER", "postgres");
        List<Process> nodes = new ArrayList<>();
        try {
            for (int n = 1; n <= 3; n++) {
                Path nodeDir = Files.createDirectories(dir.resolve("node-" + n));
                Map<String, String> settings = new LinkedHashMap<>(seed.settings);
                settings.put("sandflow.inbox", seed.inbox().toString());
                settings.put("sandflow.outbox", seed.outbox().toString());
                settings.put("sandflow.failed", seed.failed().toString());
                settings.put("sandflow.archive", seed.archive().toString());
                settings.put("sandflow.store.url", url());
                settings.put("sandflow.node.id", "node-" + n);
                settings.put("sandflow.cluster.lease", LEASE.toMillis() + "ms");
                settings.put("sandflow.intake.poll", "200ms");
                settings.put("sandflow.intake.batch", "10");
                settings.put("sandflow.agent.env.STANDIN_DELAY", "0.2");
                settings.put("sandflow.shutdown.grace", "2s");
                nodes.add(DaemonProcess.start(nodeDir, settings, env, "run"));
            }

            await().atMost(Duration.ofMinutes(2)).until(() -> seed.names(seed.outbox()).size() >= FILES / 3);
            nodes.get(1).destroyForcibly().waitFor();
            Instant killedAt = Instant.now();
            List<String> orphaned;
            try (JobStore store = JobStore.open(url(), "postgres", null)) {
                orphaned = runningJobsOf(store, "node-2");
            }

            await().atMost(Duration.ofMinutes(3)).until(() -> seed.names(seed.inbox()).isEmpty());
            for (Process node : List.of(nodes.get(0), nodes.get(2))) {
                assertThat(DaemonProcess.terminate(node, Duration.ofSeconds(30))).isNotEqualTo(-1);
            }

            List<String> outputs = seed.names(seed.outbox());
            List<String> failed = seed.names(seed.failed());
            assertThat(failed).isEmpty();
            assertThat(outputs).hasSize(FILES);
            for (String output : outputs) {
                assertThat(seed.json(seed.outbox().resolve(output)).path("summary").asText()).isNotBlank();
            }
            try (JobStore store = JobStore.open(url(), "postgres", null)) {
                for (int i = 0; i < FILES; i++) {
                    List<JobRecord> rows = store.findByName(String.format("input-%03d.json", i));
                    assertThat(rows).as("one ledger row per input").singleElement()
                            .extracting(JobRecord::state).isEqualTo(JobState.DONE);
                }
                Instant deadline = killedAt.plus(LEASE).plusSeconds(6);
                for (String name : orphaned) {
                    JobRecord row = store.findByName(name).get(0);
                    assertThat(row.owner()).as(name + " taken over").isNotEqualTo("node-2");
                    assertThat(row.finishedAt()).as(name + " finished within lease + one poll + its run")
                            .isBefore(deadline);
                }
            }
            Map<String, Long> runsPerFile = agentRuns(seed.agentLog);
            long extraRuns = runsPerFile.values().stream().mapToLong(r -> r - 1).sum();
            assertThat(extraRuns).as("only the jobs in flight on the killed node ran twice")
                    .isLessThanOrEqualTo(orphaned.size());
            System.out.printf("cluster: %d files, node-2 killed holding %d job(s), %d extra agent run(s)%n",
                    FILES, orphaned.size(), extraRuns);
        } finally {
            for (Process node : nodes) {
                node.destroyForcibly().waitFor();
            }
        }
    }

    private static List<String> runningJobsOf(JobStore store, String node) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < FILES; i++) {
            for (JobRecord row : store.findByName(String.format("input-%03d.json", i))) {
                if (row.state() == JobState.RUNNING && node.equals(row.owner())) {
                    names.add(row.name());
                }
            }
        }
        return names;
    }

    private static Map<String, Long> agentRuns(Path log) throws IOException {
        Map<String, Long> runs = new HashMap<>();
        try (Stream<String> lines = Files.lines(log, StandardCharsets.UTF_8)) {
            lines.map(l -> l.split(" ")[2]).forEach(name -> runs.merge(name, 1L, Long::sum));
        }
        return runs.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    }
}
