package io.sandflow.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.sandflow.job.FailureClass;
import io.sandflow.job.JobKey;
import io.sandflow.job.JobState;
import io.sandflow.store.JobStore.Claim;
import io.sandflow.store.JobStore.Claim.Status;

/** The behaviour every JobStore must have, run against each database by a subclass. */
abstract class JobStoreContract {

    static final Duration LONG_LEASE = Duration.ofMinutes(10);

    private final List<AutoCloseable> opened = new ArrayList<>();
    protected JobStore store;

    /** A JDBC URL of a database that no test has used yet. */
    abstract String freshUrl() throws Exception;

    abstract String user();

    abstract String password();

    /** A derived table of one column x holding from..to, in this database's SQL. */
    abstract String series(long from, long to);

    /** What the database needs after a bulk load to plan well (statistics, visibility). */
    abstract String afterBulkLoad();

    private String url;

    @BeforeEach
    void openStore() throws Exception {
        url = freshUrl();
        store = open();
    }

    @AfterEach
    void closeStores() throws Exception {
        for (AutoCloseable c : opened) {
            c.close();
        }
    }

    JobStore open() {
        JobStore s = JobStore.open(url, user(), password());
        opened.add(s);
        return s;
    }

    Connection jdbc() throws SQLException {
        Connection c = DriverManager.getConnection(url, user(), password());
        opened.add(c);
        return c;
    }

    static JobKey key(String name) {
        return new JobKey(name, JobKey.sha256(name.getBytes()));
    }

    static JobOutcome outcome(String cost, long in, long out, String error, FailureClass failureClass) {
        return new JobOutcome(1, Duration.ofSeconds(3), new BigDecimal(cost), in, out, 4, "session-1", error,
                failureClass, null);
    }

    static JobOutcome done(String cost) {
        return outcome(cost, 100, 20, null, null);
    }

    // ------------------------------------------------------------------------------------------------- claims

    @Test
    void claimsANewJob() {
        Claim claim = store.claim(key("a.txt"), "node-1", LONG_LEASE);

        assertThat(claim.status()).isEqualTo(Status.CLAIMED);
        assertThat(claim.fenceToken()).isEqualTo(1);
        assertThat(claim.attempts()).isZero();
        JobRecord job = store.find(key("a.txt")).orElseThrow();
        assertThat(job.id()).isEqualTo(claim.jobId());
        assertThat(job.state()).isEqualTo(JobState.RUNNING);
        assertThat(job.owner()).isEqualTo("node-1");
        assertThat(job.leaseUntil()).isAfter(job.createdAt().plus(Duration.ofMinutes(9)));
        assertThat(store.isOwner(claim.jobId(), claim.fenceToken())).isTrue();
    }

    @Test
    void aDoneOrFailedJobIsNotClaimedAgain() {
        Claim a = store.claim(key("a.txt"), "node-1", LONG_LEASE);
        Claim b = store.claim(key("b.txt"), "node-1", LONG_LEASE);
        assertThat(store.complete(a.jobId(), a.fenceToken(), done("0.10"))).isTrue();
        assertThat(store.fail(b.jobId(), b.fenceToken(),
                outcome("0.20", 1, 1, "too large", FailureClass.PERMANENT))).isTrue();

        assertThat(store.claim(key("a.txt"), "node-2", LONG_LEASE))
                .isEqualTo(new Claim(Status.ALREADY_DONE, a.jobId(), 1, 1));
        assertThat(store.claim(key("b.txt"), "node-1", LONG_LEASE).status()).isEqualTo(Status.ALREADY_FAILED);
        JobRecord job = store.find(key("a.txt")).orElseThrow();
        assertThat(job.state()).isEqualTo(JobState.DONE);
        assertThat(job.costUsd()).isEqualByComparingTo("0.10");
        assertThat(job.durationMs()).isEqualTo(3000L);
        assertThat(job.finishedAt()).isNotNull();
        assertThat(job.leaseUntil()).isNull();
    }

    @Test
    void changedContentIsANewJob() {
        Claim first = store.claim(new JobKey("a.txt", JobKey.sha256("one".getBytes())), "node-1", LONG_LEASE);
        store.complete(first.jobId(), first.fenceToken(), done("0"));

        Claim second = store.claim(new JobKey("a.txt", JobKey.sha256("two".getBytes())), "node-1", LONG_LEASE);

        assertThat(second.status()).isEqualTo(Status.CLAIMED);
        assertThat(second.jobId()).isNotEqualTo(first.jobId());
        assertThat(store.findByName("a.txt")).extracting(JobRecord::state)
                .containsExactly(JobState.DONE, JobState.RUNNING);
    }

    @Test
    void aJobUnderAnotherNodesLiveLeaseIsBusy() {
        Claim a = store.claim(key("a.txt"), "node-1", LONG_LEASE);

        Claim b = store.claim(key("a.txt"), "node-2", LONG_LEASE);

        assertThat(b).isEqualTo(new Claim(Status.BUSY, a.jobId(), a.fenceToken(), 0));
        assertThat(store.find(key("a.txt")).orElseThrow().owner()).isEqualTo("node-1");
    }

    @Test
    void theSameNodeTakesBackItsOwnRunningJob() {
        Claim first = store.claim(key("a.txt"), "node-1", LONG_LEASE);

        Claim again = store.claim(key("a.txt"), "node-1", LONG_LEASE);

        assertThat(again.status()).isEqualTo(Status.CLAIMED);
        assertThat(again.fenceToken()).isEqualTo(first.fenceToken() + 1);
        assertThat(store.isOwner(first.jobId(), first.fenceToken())).isFalse();
    }

    @Test
    void anExpiredLeaseIsTakenOverWithAHigherFenceToken() {
        Claim a = store.claim(key("a.txt"), "node-1", Duration.ofMillis(200));

        Claim b = await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                .until(() -> store.claim(key("a.txt"), "node-2", LONG_LEASE), Claim::claimed);

        assertThat(b.jobId()).isEqualTo(a.jobId());
        assertThat(b.fenceToken()).isGreaterThan(a.fenceToken());
        assertThat(store.isOwner(a.jobId(), a.fenceToken())).isFalse();
        assertThat(store.isOwner(b.jobId(), b.fenceToken())).isTrue();
        assertThat(store.complete(a.jobId(), a.fenceToken(), done("1"))).isFalse();
        assertThat(store.complete(b.jobId(), b.fenceToken(), done("1"))).isTrue();
        assertThat(store.find(key("a.txt")).orElseThrow().owner()).isEqualTo("node-2");
    }

    @Test
    void aStaleTokenChangesNothing() {
        Claim a = store.claim(key("a.txt"), "node-1", LONG_LEASE);
        assertThat(store.park(a.jobId(), a.fenceToken(), "usage limit reached")).isTrue();
        Claim b = store.claim(key("a.txt"), "node-2", LONG_LEASE);
        assertThat(b.status()).isEqualTo(Status.CLAIMED);
        assertThat(b.fenceToken()).isEqualTo(a.fenceToken() + 1);

        assertThat(store.complete(a.jobId(), a.fenceToken(), done("5"))).isFalse();
        assertThat(store.fail(a.jobId(), a.fenceToken(), outcome("5", 1, 1, "x", FailureClass.PERMANENT)))
                .isFalse();
        assertThat(store.park(a.jobId(), a.fenceToken(), "x")).isFalse();
        assertThat(store.release(a.jobId(), a.fenceToken())).isFalse();
        assertThat(store.attemptStarted(a.jobId(), a.fenceToken(), 7, "sandbox-a")).isFalse();

        JobRecord job = store.find(key("a.txt")).orElseThrow();
        assertThat(job.state()).isEqualTo(JobState.RUNNING);
        assertThat(job.owner()).isEqualTo("node-2");
        assertThat(job.attempts()).isZero();
        assertThat(job.costUsd()).isEqualByComparingTo("0");
        assertThat(store.totalCostUsd()).isEqualByComparingTo("0");
    }

    @Test
    void parkAndReleaseGiveTheJobBackWithoutOwner() {
        Claim a = store.claim(key("a.txt"), "node-1", LONG_LEASE);
        assertThat(store.attemptStarted(a.jobId(), a.fenceToken(), 2, "sandbox-7")).isTrue();
        assertThat(store.park(a.jobId(), a.fenceToken(), "auth failed\nsecond line")).isTrue();
        JobRecord parked = store.find(key("a.txt")).orElseThrow();
        assertThat(parked.state()).isEqualTo(JobState.PARKED);
        assertThat(parked.owner()).isNull();
        assertThat(parked.failureClass()).isEqualTo(FailureClass.SYSTEMIC);
        assertThat(parked.failureReason()).isEqualTo("auth failed");
        assertThat(parked.sandbox()).isEqualTo("sandbox-7");

        Claim again = store.claim(key("a.txt"), "node-2", LONG_LEASE);
        assertThat(again.attempts()).isEqualTo(2);
        assertThat(store.release(again.jobId(), again.fenceToken())).isTrue();
        assertThat(store.find(key("a.txt")).orElseThrow().state()).isEqualTo(JobState.PENDING);
        assertThat(store.claim(key("a.txt"), "node-3", LONG_LEASE).fenceToken()).isEqualTo(3);
    }

    @Test
    void concurrentClaimsOfOneKeyHaveExactlyOneWinner() throws Exception {
        JobStore[] processes = {store, open()};
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            for (int round = 0; round < 10; round++) {
                JobKey key = key("race-" + round + ".txt");
                CyclicBarrier start = new CyclicBarrier(threads);
                List<Future<Claim>> claims = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    JobStore s = processes[t % processes.length];
                    String node = "node-" + t;
                    claims.add(pool.submit(() -> {
                        start.await(10, TimeUnit.SECONDS);
                        return s.claim(key, node, LONG_LEASE);
                    }));
                }
                List<Claim> results = new ArrayList<>();
                for (Future<Claim> f : claims) {
                    results.add(f.get(30, TimeUnit.SECONDS));
                }
                Map<Status, Long> byStatus = results.stream()
                        .collect(Collectors.groupingBy(Claim::status, Collectors.counting()));
                assertThat(byStatus).as("round %d: %s", round, results)
                        .isEqualTo(Map.of(Status.CLAIMED, 1L, Status.BUSY, 7L));
                assertThat(results).extracting(Claim::fenceToken).containsOnly(1L);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void concurrentTakeoversOfAParkedJobHaveExactlyOneWinner() throws Exception {
        Claim first = store.claim(key("parked.txt"), "node-x", LONG_LEASE);
        store.park(first.jobId(), first.fenceToken(), "budget");
        JobStore other = open();
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CyclicBarrier start = new CyclicBarrier(threads);
            List<Future<Claim>> claims = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                JobStore s = t % 2 == 0 ? store : other;
                String node = "node-" + t;
                claims.add(pool.submit(() -> {
                    start.await(10, TimeUnit.SECONDS);
                    return s.claim(key("parked.txt"), node, LONG_LEASE);
                }));
            }
            List<Claim> results = new ArrayList<>();
            for (Future<Claim> f : claims) {
                results.add(f.get(30, TimeUnit.SECONDS));
            }
            assertThat(results).filteredOn(Claim::claimed).singleElement()
                    .extracting(Claim::fenceToken).isEqualTo(2L);
            assertThat(results).filteredOn(c -> !c.claimed()).extracting(Claim::status).containsOnly(Status.BUSY);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void renewLeasesExtendsOnlyTheNodesRunningJobs() {
        store.claim(key("a.txt"), "node-1", Duration.ofMillis(200));
        store.claim(key("b.txt"), "node-1", Duration.ofMillis(200));
        Claim c = store.claim(key("c.txt"), "node-1", Duration.ofMillis(200));
        store.complete(c.jobId(), c.fenceToken(), done("0"));
        store.claim(key("d.txt"), "node-2", Duration.ofMillis(200));

        assertThat(store.renewLeases("node-1", LONG_LEASE)).isEqualTo(2);

        Instant now = store.status(0).now();
        assertThat(store.find(key("a.txt")).orElseThrow().leaseUntil()).isAfter(now.plus(Duration.ofMinutes(9)));
        assertThat(store.find(key("d.txt")).orElseThrow().leaseUntil()).isBefore(now.plusSeconds(1));
        assertThat(store.claim(key("a.txt"), "node-2", LONG_LEASE).status()).isEqualTo(Status.BUSY);
    }

    @Test
    void releaseOwnedByReturnsTheNodesJobsToPending() {
        Claim a = store.claim(key("a.txt"), "node-1", LONG_LEASE);
        store.claim(key("b.txt"), "node-1", LONG_LEASE);
        store.claim(key("c.txt"), "node-2", LONG_LEASE);

        assertThat(store.releaseOwnedBy("node-1")).isEqualTo(2);

        assertThat(store.find(key("a.txt")).orElseThrow().state()).isEqualTo(JobState.PENDING);
        assertThat(store.find(key("c.txt")).orElseThrow().state()).isEqualTo(JobState.RUNNING);
        assertThat(store.complete(a.jobId(), a.fenceToken(), done("1"))).isFalse();
        Claim again = store.claim(key("a.txt"), "node-3", LONG_LEASE);
        assertThat(again.status()).isEqualTo(Status.CLAIMED);
        assertThat(again.fenceToken()).isEqualTo(3);
    }

    @Test
    void markDoneWithoutRunEndsTheJobAndFencesOutItsRunner() {
        store.markDoneWithoutRun(key("new.txt"), "node-1", "new.json");
        Claim running = store.claim(key("running.txt"), "node-2", LONG_LEASE);

        store.markDoneWithoutRun(key("running.txt"), "node-1", "running.json");
        store.markDoneWithoutRun(key("new.txt"), "node-1", "new.json");

        assertThat(store.find(key("new.txt")).orElseThrow())
                .extracting(JobRecord::state, JobRecord::outputName, JobRecord::attempts)
                .containsExactly(JobState.DONE, "new.json", 0);
        assertThat(store.find(key("running.txt")).orElseThrow().state()).isEqualTo(JobState.DONE);
        assertThat(store.complete(running.jobId(), running.fenceToken(), done("1"))).isFalse();
        assertThat(store.claim(key("new.txt"), "node-2", LONG_LEASE).status()).isEqualTo(Status.ALREADY_DONE);
    }

    // ------------------------------------------------------------------------------------------------- results, reruns

    @Test
    void aResultNameBelongsToTheFirstInputThatTookItWhileItHasAJobThatDidNotFail() {
        Claim a = store.claim(key("a.json"), "node-1", LONG_LEASE);
        assertThat(store.reserveOutput("a.json", "a.result.json")).isEmpty();
        assertThat(store.reserveOutput("a.json", "a.result.json")).as("its holder takes it again").isEmpty();
        Claim upper = store.claim(key("a.JSON"), "node-2", LONG_LEASE);

        assertThat(store.reserveOutput("a.JSON", "a.result.json")).contains("a.json");
        assertThat(store.reserveOutput("a.JSON", "a.JSON.result.json")).isEmpty();

        assertThat(store.fail(a.jobId(), a.fenceToken(), outcome("0", 0, 0, "bad input", FailureClass.PERMANENT)))
                .isTrue();
        assertThat(store.reserveOutput("a.JSON", "a.result.json")).as("a holder that only failed lets go").isEmpty();
        assertThat(store.reserveOutput("a.json", "a.result.json")).contains("a.JSON");
        assertThat(store.complete(upper.jobId(), upper.fenceToken(), done("0"))).isTrue();
        assertThat(store.reserveOutput("a.json", "a.result.json")).contains("a.JSON");
    }

    @Test
    void ofInputsRacingForOneResultNameExactlyOneGetsIt() throws Exception {
        int racers = 6;
        for (int i = 0; i < racers; i++) {
            store.claim(key("in-" + i + ".json"), "node-" + i, LONG_LEASE);
        }
        ExecutorService pool = Executors.newFixedThreadPool(racers);
        try {
            CyclicBarrier start = new CyclicBarrier(racers);
            List<Future<java.util.Optional<String>>> answers = new ArrayList<>();
            for (int i = 0; i < racers; i++) {
                String name = "in-" + i + ".json";
                answers.add(pool.submit(() -> {
                    start.await(10, TimeUnit.SECONDS);
                    return store.reserveOutput(name, "shared.result.json");
                }));
            }
            List<java.util.Optional<String>> got = new ArrayList<>();
            for (Future<java.util.Optional<String>> f : answers) {
                got.add(f.get(60, TimeUnit.SECONDS));
            }
            assertThat(got).filteredOn(java.util.Optional::isEmpty).hasSize(1);
            int winner = got.indexOf(java.util.Optional.<String>empty());
            assertThat(got).filteredOn(java.util.Optional::isPresent).extracting(java.util.Optional::get)
                    .containsOnly("in-" + winner + ".json");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void reopenPutsAFinishedJobBackUnlessItChangedSince() {
        Claim first = store.claim(key("a.txt"), "node-1", LONG_LEASE);
        store.complete(first.jobId(), first.fenceToken(), done("0.5"));
        Claim answer = store.claim(key("a.txt"), "node-2", LONG_LEASE);
        assertThat(answer.status()).isEqualTo(Status.ALREADY_DONE);

        assertThat(store.reopen(answer.jobId(), answer.fenceToken())).isTrue();
        assertThat(store.reopen(answer.jobId(), answer.fenceToken())).as("changed since that answer").isFalse();
        assertThat(store.find(key("a.txt")).orElseThrow()).extracting(JobRecord::state, JobRecord::attempts)
                .containsExactly(JobState.PENDING, 0);
        Claim again = store.claim(key("a.txt"), "node-2", LONG_LEASE);
        assertThat(again.status()).isEqualTo(Status.CLAIMED);
        assertThat(store.isOwner(first.jobId(), first.fenceToken())).isFalse();
        assertThat(store.totalCostUsd()).isEqualByComparingTo("0.5");
    }

    @Test
    void aRerunMarkLastsUntilTheJobEnds() {
        store.requestRerun(key("new.txt"));
        assertThat(store.find(key("new.txt")).orElseThrow().state()).isEqualTo(JobState.PENDING);
        Claim fresh = store.claim(key("new.txt"), "node-1", LONG_LEASE);
        assertThat(fresh.status()).isEqualTo(Status.CLAIMED);
        assertThat(store.rerunRequested(fresh.jobId())).isTrue();
        assertThat(store.park(fresh.jobId(), fresh.fenceToken(), "breaker open")).isTrue();
        Claim resumed = store.claim(key("new.txt"), "node-1", LONG_LEASE);
        assertThat(store.rerunRequested(resumed.jobId())).as("survives parking").isTrue();
        assertThat(store.complete(resumed.jobId(), resumed.fenceToken(), done("0"))).isTrue();
        assertThat(store.rerunRequested(resumed.jobId())).isFalse();

        store.requestRerun(key("new.txt"));
        assertThat(store.find(key("new.txt")).orElseThrow().state()).as("a done job is reopened")
                .isEqualTo(JobState.PENDING);
        Claim rerun = store.claim(key("new.txt"), "node-2", LONG_LEASE);
        assertThat(rerun.status()).isEqualTo(Status.CLAIMED);
        assertThat(store.rerunRequested(rerun.jobId())).isTrue();
        assertThat(store.fail(rerun.jobId(), rerun.fenceToken(), outcome("0", 0, 0, "x", FailureClass.PERMANENT)))
                .isTrue();
        assertThat(store.rerunRequested(rerun.jobId())).isFalse();
    }

    // ------------------------------------------------------------------------------------------------- retry

    @Test
    void forgetFailedByNameAndByReason() {
        failJob("a.txt", "Schema mismatch at $.title\nfull report");
        failJob("b.txt", "File too large: 12 MiB");
        failJob("c.txt", "output is not JSON (schema mismatch)");
        failJob("d.txt", "100% of turns used");
        Claim e = store.claim(key("e.txt"), "node-1", LONG_LEASE);
        store.complete(e.jobId(), e.fenceToken(), done("0"));

        assertThat(store.forgetFailed(List.of("a.txt", "e.txt", "unknown.txt"), null)).containsExactly("a.txt");
        assertThat(store.find(key("a.txt"))).isEmpty();
        assertThat(store.claim(key("a.txt"), "node-1", LONG_LEASE).status()).isEqualTo(Status.CLAIMED);

        assertThat(store.forgetFailed(List.of(), "SCHEMA MISMATCH")).containsExactly("c.txt");
        assertThat(store.forgetFailed(List.of(), "0%")).containsExactly("d.txt");
        assertThat(store.forgetFailed(List.of("b.txt"), "schema")).isEmpty();
        assertThat(store.forgetFailed(List.of(), null)).containsExactly("b.txt");
        assertThat(store.find(key("e.txt")).orElseThrow().state()).isEqualTo(JobState.DONE);
        assertThat(store.totalCostUsd()).as("spend survives forgetting").isEqualByComparingTo("0.04");
    }

    private void failJob(String name, String error) {
        Claim c = store.claim(key(name), "node-1", LONG_LEASE);
        assertThat(store.fail(c.jobId(), c.fenceToken(), outcome("0.01", 1, 1, error, FailureClass.PERMANENT)))
                .isTrue();
    }

    // ------------------------------------------------------------------------------------------------- status

    @Test
    void anInputSkippedForAnotherJobsResultIsNoSecondDoneJob() {
        Claim first = store.claim(new JobKey("a.json", "1".repeat(64)), "node-1", LONG_LEASE);
        store.complete(first.jobId(), first.fenceToken(), outcome("0.25", 1000, 200, null, null));
        // The same name with other content, skipped because a.json's result is in the outbox
        store.markDoneWithoutRun(new JobKey("a.json", "2".repeat(64)), "node-1", "a.result.json");
        // A first-time input whose result was already there (a resumed batch) is a job of its own
        store.markDoneWithoutRun(new JobKey("b.json", "3".repeat(64)), "node-1", "b.result.json");

        assertThat(store.status(0).count(JobState.DONE)).isEqualTo(2);
    }

    @Test
    void statusCountsTotalsAndTopReasons() {
        for (int i = 0; i < 3; i++) {
            Claim c = store.claim(key("done-" + i), "node-1", LONG_LEASE);
            store.complete(c.jobId(), c.fenceToken(), outcome("0.25", 1000, 200, null, null));
        }
        for (int i = 0; i < 7; i++) {
            failJob("big-" + i, "File too large");
        }
        failJob("json-1", "Not JSON\nat line 3");
        failJob("json-2", "Not JSON\nat line 9");
        Claim parked = store.claim(key("parked"), "node-1", LONG_LEASE);
        store.park(parked.jobId(), parked.fenceToken(), "Usage limit reached");
        store.claim(key("running"), "node-2", LONG_LEASE);
        Claim pending = store.claim(key("pending"), "node-2", LONG_LEASE);
        store.release(pending.jobId(), pending.fenceToken());
        store.markDoneWithoutRun(key("resumed"), "node-1", "resumed.json");
        store.heartbeat("node-1", "host-a", 0);
        store.heartbeat("node-2", "host-b", 1);
        store.heartbeat("node-2", "host-b", 2);

        StatusSnapshot s = store.status(2);

        assertThat(s.counts()).containsExactlyInAnyOrderEntriesOf(Map.of(JobState.DONE, 4L, JobState.FAILED, 9L,
                JobState.PARKED, 1L, JobState.RUNNING, 1L, JobState.PENDING, 1L));
        assertThat(s.total()).isEqualTo(16);
        assertThat(s.totalCostUsd()).isEqualByComparingTo("0.84");
        assertThat(s.inputTokens()).isEqualTo(3 * 1000 + 9);
        assertThat(s.outputTokens()).isEqualTo(3 * 200 + 9);
        assertThat(s.doneLast10Minutes()).as("a job marked done without a run is no throughput").isEqualTo(3);
        assertThat(s.doneLastHour()).isEqualTo(3);
        assertThat(s.topReasons()).containsExactly(
                new StatusSnapshot.FailureReason(JobState.FAILED, "File too large", 7,
                        List.of("big-0", "big-1", "big-2", "big-3", "big-4")),
                new StatusSnapshot.FailureReason(JobState.FAILED, "Not JSON", 2, List.of("json-1", "json-2")));
        assertThat(s.nodes()).as("status counts the jobs RUNNING under each node, not its last report")
                .extracting(NodeRecord::nodeId, NodeRecord::host, NodeRecord::runningJobs)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("node-1", "host-a", 0),
                        org.assertj.core.groups.Tuple.tuple("node-2", "host-b", 1));
        assertThat(store.nodes()).extracting(NodeRecord::runningJobs).containsExactly(0, 2);
        assertThat(s.recentFinishes()).as("the 3 done and 9 failed with a finish time, newest first").hasSize(12)
                .isSortedAccordingTo(java.util.Comparator.reverseOrder());
        assertThat(s.nodes().get(1).heartbeatAt()).isAfterOrEqualTo(s.nodes().get(1).startedAt());
        assertThat(store.status(5).topReasons()).extracting(StatusSnapshot.FailureReason::reason)
                .containsExactly("File too large", "Not JSON", "Usage limit reached");
    }

    @Test
    void nodeStartedResetsTheStartTime() {
        store.heartbeat("node-1", "host-a", 3);
        Instant firstStart = store.nodes().get(0).startedAt();

        store.nodeStarted("node-1", "host-c");

        NodeRecord node = store.nodes().get(0);
        assertThat(node.host()).isEqualTo("host-c");
        assertThat(node.runningJobs()).isZero();
        assertThat(node.startedAt()).isAfterOrEqualTo(firstStart);
    }

    /** A node that stopped cleanly says so at once: status shows it not running rather than for a lease more. */
    @Test
    void aStoppedNodeIsMarkedUntilItStartsAgain() {
        store.nodeStarted("node-1", "host-a");
        assertThat(store.nodes().get(0).stoppedAt()).isNull();

        store.nodeStopped("node-1");

        assertThat(store.nodes().get(0).stoppedAt()).isNotNull();
        assertThat(store.status(1).nodes().get(0).stoppedAt()).isNotNull();
        store.nodeStarted("node-1", "host-a");
        assertThat(store.nodes().get(0).stoppedAt()).isNull();
    }

    @Test
    void statusCountsManyJobs() throws Exception {
        long rows = Long.getLong("sandflow.perf.rows", 50_000);
        long fillStart = System.nanoTime();
        try (Statement s = jdbc().createStatement()) {
            // Finished over the last 30 days, 5% failed with 37 reasons, 5% parked, 5% pending.
            for (long from = 1; from <= rows; from += 50_000) {
                s.execute("INSERT INTO sandflow_jobs (name, sha256, state, attempts, started_at, finished_at,"
                        + " cost_usd, input_tokens, output_tokens, last_error, failure_reason, failure_class,"
                        + " fence_token) SELECT 'bulk-' || x || '.txt', 'sha-' || x,"
                        + " CASE MOD(x, 20) WHEN 0 THEN 'FAILED' WHEN 1 THEN 'PARKED' WHEN 2 THEN 'PENDING'"
                        + " ELSE 'DONE' END, 1, CURRENT_TIMESTAMP,"
                        + " CURRENT_TIMESTAMP + -MOD(CAST(x AS BIGINT) * 7919, 2592000) * INTERVAL '1' SECOND,"
                        + " 0.01, 1000, 100, 'reason ' || MOD(x, 37), 'reason ' || MOD(x, 37), 'PERMANENT', 1"
                        + " FROM " + series(from, Math.min(rows, from + 49_999)));
            }
            String after = afterBulkLoad();
            if (after != null) {
                s.execute(after);
            }
        }
        long fillMs = (System.nanoTime() - fillStart) / 1_000_000;

        long best = Long.MAX_VALUE;
        StatusSnapshot snapshot = null;
        for (int i = 0; i < 5; i++) {
            long t = System.nanoTime();
            snapshot = store.status(10);
            best = Math.min(best, System.nanoTime() - t);
        }
        long claimNanos = 0;
        long finishNanos = 0;
        int claims = 500;
        for (int i = 0; i < claims; i++) {
            long t = System.nanoTime();
            Claim c = store.claim(key("latency-" + i), "node-1", LONG_LEASE);
            long t2 = System.nanoTime();
            store.complete(c.jobId(), c.fenceToken(), done("0.001"));
            finishNanos += System.nanoTime() - t2;
            claimNanos += t2 - t;
        }
        long t = System.nanoTime();
        Claim dup = null;
        for (int i = 0; i < claims; i++) {
            long x = 20L * (i % (rows / 20)) + 3;
            dup = store.claim(new JobKey("bulk-" + x + ".txt", "sha-" + x), "node-1", LONG_LEASE);
            assertThat(dup.status()).isEqualTo(Status.ALREADY_DONE);
        }
        long duplicateMicros = (System.nanoTime() - t) / claims / 1000;
        System.out.printf("PERF %s: %d rows filled in %d ms; status best of 5 %d ms; claim %d us, complete %d us"
                        + " (mean of %d); claim of a DONE key %d us%n", store.databaseKind(), rows, fillMs,
                best / 1_000_000, claimNanos / claims / 1000, finishNanos / claims / 1000, claims, duplicateMicros);

        assertThat(snapshot.total()).isEqualTo(rows);
        assertThat(snapshot.count(JobState.FAILED)).isEqualTo(rows / 20);
        assertThat(snapshot.doneLastHour()).isPositive();
        assertThat(snapshot.topReasons()).hasSize(10).allSatisfy(r -> assertThat(r.sampleNames()).hasSize(5));
        assertThat(dup.status()).isEqualTo(Status.ALREADY_DONE);
    }

    // ------------------------------------------------------------------------------------------------- schema, state

    @Test
    void migrationsRunOnceAndReopeningKeepsTheData() throws Exception {
        Claim a = store.claim(key("a.txt"), "node-1", LONG_LEASE);
        store.complete(a.jobId(), a.fenceToken(), done("1.5"));
        store.close();

        JobStore reopened = open();
        JobStore again = open();

        assertThat(reopened.claim(key("a.txt"), "node-1", LONG_LEASE).status()).isEqualTo(Status.ALREADY_DONE);
        assertThat(again.totalCostUsd()).isEqualByComparingTo("1.5");
        assertThat(appliedMigrations()).startsWith("1:jobs", "2:nodes", "3:state");
    }

    @Test
    void aStoreMigratedBeforeFlywayKeepsItsJobsAndGetsOnlyTheLaterMigrations() throws Exception {
        store.close();
        String url = freshUrl();
        this.url = url;
        try (Connection c = jdbc(); Statement s = c.createStatement()) {
            // As the migration runner before Flyway left a store at version 2: its own history table, V1 and V2
            for (String file : List.of("V1__jobs.sql", "V2__nodes.sql")) {
                for (String statement : statements(file)) {
                    s.execute(statement);
                }
            }
            s.execute("CREATE TABLE sandflow_schema (version INTEGER PRIMARY KEY, file_name VARCHAR(200) NOT NULL,"
                    + " checksum VARCHAR(64) NOT NULL, applied_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP)");
            s.execute("INSERT INTO sandflow_schema (version, file_name, checksum) VALUES (1, 'V1__jobs.sql', 'x'),"
                    + " (2, 'V2__nodes.sql', 'y')");
            s.execute("INSERT INTO sandflow_jobs (name, sha256, state, attempts) VALUES ('old.json', '"
                    + key("old.json").sha256() + "', 'DONE', 1)");
        }

        JobStore upgraded = open();

        assertThat(upgraded.claim(key("old.json"), "node-1", LONG_LEASE).status()).isEqualTo(Status.ALREADY_DONE);
        assertThat(upgraded.totalCostUsd()).isEqualByComparingTo("0");
        List<String> history = appliedMigrations();
        assertThat(history.get(0)).startsWith("2:");
        assertThat(history).contains("3:state").doesNotContain("1:jobs", "2:nodes");
        open().close();
        assertThat(appliedMigrations()).isEqualTo(history);
    }

    /** A migration file split into statements at semicolons that end a line, as the files are written. */
    private static List<String> statements(String file) throws Exception {
        String sql;
        try (java.io.InputStream in = JobStoreContract.class.getResourceAsStream("/db/migration/" + file)) {
            sql = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : sql.split("\n")) {
            if (line.strip().startsWith("--")) {
                continue;
            }
            current.append(line).append('\n');
            if (line.strip().endsWith(";")) {
                out.add(current.toString().strip().replaceAll(";$", ""));
                current.setLength(0);
            }
        }
        return out;
    }

    @Test
    void nodesStartingTogetherMigrateOnce() throws Exception {
        String url = freshUrl();
        int nodes = 4;
        ExecutorService pool = Executors.newFixedThreadPool(nodes);
        try {
            CyclicBarrier start = new CyclicBarrier(nodes);
            List<Future<JobStore>> stores = new ArrayList<>();
            for (int i = 0; i < nodes; i++) {
                stores.add(pool.submit(() -> {
                    start.await(10, TimeUnit.SECONDS);
                    return JobStore.open(url, user(), password());
                }));
            }
            for (Future<JobStore> f : stores) {
                JobStore s = f.get(60, TimeUnit.SECONDS);
                opened.add(s);
                assertThat(s.status(1).total()).isZero();
            }
        } finally {
            pool.shutdownNow();
        }
        this.url = url;
        assertThat(appliedMigrations()).startsWith("1:jobs", "2:nodes", "3:state")
                .doesNotHaveDuplicates();
    }

    private List<String> appliedMigrations() throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement s = jdbc().createStatement();
             ResultSet rs = s.executeQuery("SELECT \"version\", \"description\""
                     + " FROM \"sandflow_schema_history\" WHERE \"version\" IS NOT NULL AND \"success\""
                     + " ORDER BY \"installed_rank\"")) {
            while (rs.next()) {
                out.add(rs.getString(1) + ":" + rs.getString(2));
            }
        }
        return out;
    }

    @Test
    void sharedStateIsReadAndOverwritten() {
        assertThat(store.getState("breaker")).isEmpty();
        store.putState("breaker", "OPEN");
        store.putState("breaker", "{\"state\":\"HALF_OPEN\"}");

        assertThat(open().getState("breaker")).contains("{\"state\":\"HALF_OPEN\"}");
        assertThatThrownBy(() -> store.putState("total.cost_usd", "0"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void longAndOddErrorsAreStored() {
        Claim c = store.claim(key("a.txt"), "node-1", LONG_LEASE);
        String error = "bad byte \0 here\n" + "é".repeat(10_000);

        assertThat(store.fail(c.jobId(), c.fenceToken(), outcome("0", 0, 0, error, FailureClass.PERMANENT)))
                .isTrue();

        JobRecord job = store.find(key("a.txt")).orElseThrow();
        assertThat(job.lastError()).startsWith("bad byte  here\néé").doesNotContain("\0");
        assertThat(job.lastError().getBytes(java.nio.charset.StandardCharsets.UTF_8).length)
                .isBetween(8 * 1024 - 1, 8 * 1024);
        assertThat(job.failureReason()).isEqualTo("bad byte  here");
        assertThat(job.failureClass()).isEqualTo(FailureClass.PERMANENT);
    }

    // ------------------------------------------------------------------------------------------ retries, history

    static AttemptOutcome attempt(int n, FailureClass cls, boolean counts, String cost) {
        return new AttemptOutcome(n, Duration.ofMillis(1500), cls == null ? 0 : 1, false, cls,
                cls == null ? null : "attempt " + n + " failed", counts, new BigDecimal(cost), 1000, 50, "node-1",
                "sandbox-1");
    }

    @Test
    void aJobWaitingForItsBackoffIsNotClaimedUntilItEnds() {
        Claim a = store.claim(key("a.txt"), "node-1", LONG_LEASE);
        store.recordAttempt(a.jobId(), attempt(1, FailureClass.TRANSIENT, true, "0"));

        assertThat(store.retryLater(a.jobId(), a.fenceToken(), Duration.ofHours(1), "the agent timed out")).isTrue();

        JobRecord waiting = store.find(key("a.txt")).orElseThrow();
        assertThat(waiting.state()).isEqualTo(JobState.PENDING);
        assertThat(waiting.owner()).isNull();
        assertThat(waiting.lastError()).isEqualTo("the agent timed out");
        Claim early = store.claim(key("a.txt"), "node-2", LONG_LEASE);
        assertThat(early.status()).isEqualTo(Status.NOT_DUE);
        assertThat(early.dueIn()).isBetween(Duration.ofMinutes(59), Duration.ofHours(1));
        assertThat(early.transientFailures()).isEqualTo(1);
        assertThat(store.find(key("a.txt")).orElseThrow().fenceToken()).as("no claim taken").isEqualTo(1);
        assertThat(store.retryLater(a.jobId(), a.fenceToken(), Duration.ZERO, "x")).as("stale").isFalse();

        Claim b = store.claim(key("b.txt"), "node-1", LONG_LEASE);
        store.retryLater(b.jobId(), b.fenceToken(), Duration.ofMillis(300), "a crash");
        Claim due = await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                .until(() -> store.claim(key("b.txt"), "node-2", LONG_LEASE), Claim::claimed);
        assertThat(due.fenceToken()).isEqualTo(2);
    }

    @Test
    void attemptCountsAndHistorySurviveParkingReleaseAndNewClaims() {
        Claim first = store.claim(key("a.txt"), "node-1", LONG_LEASE);
        store.recordAttempt(first.jobId(), attempt(1, FailureClass.TRANSIENT, true, "0.25"));
        store.recordAttempt(first.jobId(), attempt(2, FailureClass.INVALID_OUTPUT, true, "0.5"));
        assertThat(store.park(first.jobId(), first.fenceToken(), "the circuit breaker is open")).isTrue();

        Claim second = store.claim(key("a.txt"), "node-2", LONG_LEASE);
        assertThat(second.attempts()).isEqualTo(2);
        assertThat(second.transientFailures()).isEqualTo(1);
        assertThat(second.invalidFailures()).isEqualTo(1);
        // A 429 while the breaker opens is the service's failure, not this input's: it spends no retry
        store.recordAttempt(second.jobId(), attempt(3, FailureClass.TRANSIENT, false, "0"));
        assertThat(store.release(second.jobId(), second.fenceToken())).isTrue();

        Claim third = store.claim(key("a.txt"), "node-1", LONG_LEASE);
        assertThat(third.attempts()).isEqualTo(3);
        assertThat(third.transientFailures()).isEqualTo(1);
        // recorded although node-2's claim is stale by now: the run happened and was paid for
        store.recordAttempt(third.jobId(), new AttemptOutcome(4, Duration.ofSeconds(2), null, true, null, null, false,
                new BigDecimal("1"), 10, 5, "node-2", "sandbox-9"));

        List<AttemptRecord> history = store.attempts(third.jobId());
        assertThat(history).extracting(AttemptRecord::attempt).containsExactly(1, 2, 3, 4);
        assertThat(history).extracting(AttemptRecord::failureClass).containsExactly(FailureClass.TRANSIENT,
                FailureClass.INVALID_OUTPUT, FailureClass.TRANSIENT, null);
        AttemptRecord one = history.get(0);
        assertThat(one.jobId()).isEqualTo(first.jobId());
        assertThat(one.exitCode()).isEqualTo(1);
        assertThat(one.reason()).isEqualTo("attempt 1 failed");
        assertThat(one.costUsd()).isEqualByComparingTo("0.25");
        assertThat(one.inputTokens()).isEqualTo(1000);
        assertThat(one.outputTokens()).isEqualTo(50);
        assertThat(one.node()).isEqualTo("node-1");
        assertThat(one.sandbox()).isEqualTo("sandbox-1");
        assertThat(Duration.between(one.startedAt(), one.endedAt())).isEqualTo(Duration.ofMillis(1500));
        AttemptRecord four = history.get(3);
        assertThat(four.exitCode()).isNull();
        assertThat(four.timedOut()).isTrue();
        assertThat(four.node()).isEqualTo("node-2");

        JobRecord job = store.find(key("a.txt")).orElseThrow();
        assertThat(job.attempts()).isEqualTo(4);
        assertThat(job.costUsd()).isEqualByComparingTo("1.75");
        assertThat(job.inputTokens()).isEqualTo(3010);
        assertThat(store.totalCostUsd()).isEqualByComparingTo("1.75");
        assertThat(store.status(0).outputTokens()).isEqualTo(155);
    }

    @Test
    void forgettingAFailedJobForgetsItsHistory() {
        Claim a = store.claim(key("a.txt"), "node-1", LONG_LEASE);
        Claim b = store.claim(key("b.txt"), "node-1", LONG_LEASE);
        store.recordAttempt(a.jobId(), attempt(1, FailureClass.PERMANENT, false, "0"));
        store.recordAttempt(b.jobId(), attempt(1, null, false, "0"));
        store.fail(a.jobId(), a.fenceToken(), outcome("0", 0, 0, "400", FailureClass.PERMANENT));
        store.complete(b.jobId(), b.fenceToken(), done("0"));

        assertThat(store.forgetFailed(List.of(), null)).containsExactly("a.txt");

        assertThat(store.attempts(a.jobId())).isEmpty();
        assertThat(store.attempts(b.jobId())).hasSize(1);
    }

    @Test
    void everyJobIsListedOldestFirstAndFoundById() {
        Claim b = store.claim(key("b.txt"), "node-1", LONG_LEASE);
        Claim a = store.claim(key("a.txt"), "node-2", LONG_LEASE);
        store.complete(b.jobId(), b.fenceToken(), done("0.5"));
        store.fail(a.jobId(), a.fenceToken(), outcome("0", 0, 0, "API Error: 400", FailureClass.PERMANENT));

        assertThat(store.jobs()).extracting(JobRecord::name, JobRecord::state)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("b.txt", JobState.DONE),
                        org.assertj.core.groups.Tuple.tuple("a.txt", JobState.FAILED));
        JobRecord failed = store.job(a.jobId()).orElseThrow();
        assertThat(failed.name()).isEqualTo("a.txt");
        assertThat(failed.failureClass()).isEqualTo(FailureClass.PERMANENT);
        assertThat(failed.owner()).isEqualTo("node-2");
        assertThat(store.job(a.jobId() + b.jobId() + 1000)).isEmpty();
    }

    @Test
    void attemptsEndedSinceSpanEveryJobInTheOrderTheyEnded() throws Exception {
        Claim a = store.claim(key("a.txt"), "node-1", LONG_LEASE);
        Claim b = store.claim(key("b.txt"), "node-1", LONG_LEASE);
        store.recordAttempt(b.jobId(), attempt(1, FailureClass.TRANSIENT, true, "0.25"));
        Instant between = dbNow();
        // the database's clock moves on before the next attempts end
        await().atMost(Duration.ofSeconds(5)).until(() -> dbNow().isAfter(between));
        store.recordAttempt(a.jobId(), attempt(1, null, false, "0.5"));
        store.recordAttempt(b.jobId(), attempt(2, null, false, "0.75"));

        assertThat(store.attemptsEndedSince(Instant.EPOCH)).extracting(AttemptRecord::jobId, AttemptRecord::attempt)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(b.jobId(), 1),
                        org.assertj.core.groups.Tuple.tuple(a.jobId(), 1),
                        org.assertj.core.groups.Tuple.tuple(b.jobId(), 2));
        List<AttemptRecord> later = store.attemptsEndedSince(between.plusNanos(1000));
        assertThat(later).extracting(AttemptRecord::costUsd).usingElementComparator(BigDecimal::compareTo)
                .containsExactly(new BigDecimal("0.5"), new BigDecimal("0.75"));
    }

    private Instant dbNow() throws SQLException {
        try (Statement st = jdbc().createStatement(); ResultSet rs = st.executeQuery("SELECT CURRENT_TIMESTAMP")) {
            rs.next();
            return rs.getObject(1, java.time.OffsetDateTime.class).toInstant();
        }
    }
}
