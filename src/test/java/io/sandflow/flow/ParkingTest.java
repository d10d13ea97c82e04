package io.sandflow.flow;

import io.sandflow.cli.Sandflow;
import io.sandflow.config.SandflowConfig;
import io.sandflow.config.Settings;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.sandflow.job.JobState;
import io.sandflow.store.JobStore;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Systemic failures park the queue instead of failing it: a usage limit with a reset time holds the breaker
 * open until that time, and a spent total budget stops spending. Both leave the inputs in the inbox, nothing in
 * failed/, and {@code run --once} exits 3.
 */
@Tag("process")
class ParkingTest {

    /** What `status` shows once the run has ended with the breaker open. */
    private static final Pattern UNTIL = Pattern.compile(
            "^CLOSED \\(the daemon stopped; its breaker was OPEN until (\\S+): (.*)\\)$", Pattern.DOTALL);

    @TempDir
    Path dir;
    Workdir work;

    @BeforeEach
    void setUp() throws IOException {
        work = new Workdir(dir);
    }

    /**
     * End to end with the stand-in's real message ("resets 3:45pm", local time): the breaker's state in the store
     * names the next 3:45pm, far beyond sandflow.breaker.open-for, and the jobs are parked. The run has ended by
     * the time the test reads it, so it says so and what the breaker was.
     */
    @Test
    void aUsageLimitParksEveryJobAndTheBreakerNamesTheResetTime() throws IOException {
        work.set("sandflow.breaker.open-for", "1s").set("sandflow.once.max-wait", "1s");
        List<String> names = List.of("u1.json", "u2.json", "u3.json", "u4.json");
        for (String name : names) {
            work.ask(name, "usage-limit");
        }
        Instant before = nextLocal(LocalTime.of(15, 45), Instant.now());

        assertThat(work.runOnce()).as("run --once exit code with jobs parked").isEqualTo(3);

        Instant after = nextLocal(LocalTime.of(15, 45), Instant.now());
        assertThat(work.names(work.failed())).isEmpty();
        assertThat(work.names(work.outbox())).isEmpty();
        assertThat(work.names(work.inbox())).containsExactlyElementsOf(names);
        long calls = names.stream().mapToLong(this::calls).sum();
        assertThat(calls).as("agent calls: the first usage-limit answer opens the breaker; only those in flight ran")
                .isBetween(1L, 2L);
        names.forEach(n -> assertThat(work.ledger(n)).as(n)
                .allSatisfy(r -> assertThat(r.state()).isIn(JobState.PARKED, JobState.PENDING)));
        String breaker = state("breaker");
        System.out.println("breaker state in the store: " + breaker);
        Matcher m = UNTIL.matcher(breaker);
        assertThat(m.matches()).as("breaker state '%s' names a time", breaker).isTrue();
        assertThat(Instant.parse(m.group(1))).as("open until the next 3:45pm local").isIn(before, after);
        assertThat(m.group(2)).containsIgnoringCase("usage limit");
    }

    /**
     * Unit level, because a real reset time is hours away: once opened until a reset time, the breaker stays OPEN
     * past sandflow.breaker.open-for (it would turn HALF_OPEN after open-for alone).
     */
    @Test
    void theBreakerStaysOpenPastOpenForUntilTheResetTime() {
        Breaker breaker = breaker("200ms");
        Instant reset = Instant.now().plus(Duration.ofHours(1));

        breaker.openUntil(reset, "the account hit a usage limit");
        Instant openForPassed = Instant.now().plusMillis(400);
        await("twice open-for").atMost(Duration.ofSeconds(30)).until(() -> Instant.now().isAfter(openForPassed));

        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
        assertThat(breaker.openUntil()).isEqualTo(reset);
    }

    /** At the reset time, and not before, the breaker lets one probe through (HALF_OPEN). */
    @Test
    void theBreakerTurnsHalfOpenAtTheResetTimeNotBefore() {
        Breaker breaker = breaker("200ms");
        List<CircuitBreaker.State> transitions = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<Instant> at = new java.util.concurrent.CopyOnWriteArrayList<>();
        breaker.onTransition(state -> {
            transitions.add(state);
            at.add(Instant.now());
        });
        Instant reset = Instant.now().plusMillis(1500);

        breaker.openUntil(reset, "the account hit a usage limit");

        await("HALF_OPEN at the reset time").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10))
                .until(() -> breaker.state() == CircuitBreaker.State.HALF_OPEN);
        assertThat(transitions).containsExactly(CircuitBreaker.State.OPEN, CircuitBreaker.State.HALF_OPEN);
        // Resilience4j schedules the transition on a millisecond clock: allow it that much ahead of the instant
        assertThat(at.get(1)).as("the probe is allowed no earlier than the reset time")
                .isAfterOrEqualTo(reset.minusMillis(20));
    }

    private Breaker breaker(String openFor) {
        return new Breaker(SandflowConfig.of(Settings.load(dir, null, List.of(),
                Map.of("sandflow.breaker.open-for", openFor))).breaker());
    }

    @Test
    void aSpentTotalBudgetParksTheRestAndSpendsNothingMore() throws IOException {
        work.set("sandflow.budget.max-usd-total", "1.00")
                .set("sandflow.agent.env.STANDIN_COST_USD", "0.5")
                .set("sandflow.workers", "2")
                .set("sandflow.breaker.open-for", "500ms")
                .set("sandflow.once.max-wait", "1500ms");
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            names.add("b" + i + ".json");
            work.ask("b" + i + ".json", "success");
        }

        assertThat(work.runOnce()).as("run --once exit code with the budget spent").isEqualTo(3);

        List<String> done = work.names(work.outbox());
        long calls = names.stream().mapToLong(this::calls).sum();
        System.out.printf("budget $1.00 at $0.50 a job: %d done, %d agent calls, %d left in the inbox%n", done.size(),
                calls, work.names(work.inbox()).size());
        // The cap is checked before each attempt: the jobs already running when it is reached may finish
        assertThat(done.size()).as("jobs done").isBetween(2, 3);
        assertThat(calls).as("agent calls: one per job done, none after the cap").isEqualTo(done.size());
        assertThat(work.names(work.failed())).isEmpty();
        assertThat(work.names(work.inbox())).hasSize(names.size() - done.size());
        for (String name : work.names(work.inbox())) {
            assertThat(work.ledger(name)).as(name)
                    .allSatisfy(r -> assertThat(r.state()).isIn(JobState.PARKED, JobState.PENDING));
        }
        try (JobStore store = openStore()) {
            assertThat(store.totalCostUsd()).isEqualByComparingTo(new BigDecimal("0.5").multiply(
                    BigDecimal.valueOf(done.size())));
            assertThat(store.getState("breaker")).hasValueSatisfying(s -> assertThat(s).contains("budget"));
        }
    }

    /**
     * `status` shows the breaker as it is now: not the OPEN a stopped daemon left behind, and CLOSED once a later
     * run has worked normally.
     */
    @Test
    void statusShowsTheBreakerAsItIsNowNotAsAStoppedDaemonLeftIt() throws IOException {
        work.set("sandflow.budget.max-usd-total", "1.00")
                .set("sandflow.agent.env.STANDIN_COST_USD", "0.5")
                .set("sandflow.breaker.open-for", "500ms")
                .set("sandflow.once.max-wait", "1500ms");
        for (int i = 0; i < 6; i++) {
            work.ask("s" + i + ".json", "success");
        }
        assertThat(work.runOnce()).as("first run: the budget is spent").isEqualTo(3);

        String afterStop = statusBreaker();
        System.out.println("status after the daemon stopped: " + afterStop);
        assertThat(afterStop).as("the daemon is gone, so no breaker is open").doesNotStartWith("OPEN")
                .doesNotStartWith("HALF_OPEN").containsIgnoringCase("stopped").contains("budget");

        work.set("sandflow.budget.max-usd-total", "100");
        assertThat(work.runOnce()).as("second run: budget raised").isZero();

        assertThat(statusBreaker()).isEqualTo("CLOSED");
    }

    private String statusBreaker() throws IOException {
        List<String> args = new ArrayList<>(List.of("-C", dir.toString()));
        work.settings.forEach((k, v) -> args.add("-D" + k + "=" + v));
        args.addAll(List.of("status", "--json"));
        java.io.StringWriter out = new java.io.StringWriter();
        assertThat(Sandflow.execute(new java.io.PrintWriter(out), args.toArray(String[]::new))).isZero();
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.toString()).path("breaker").asText();
    }

    private long calls(String name) {
        try {
            return work.agentCalls(name);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private String state(String key) {
        try (JobStore store = openStore()) {
            return store.getState(key).orElse("");
        }
    }

    private JobStore openStore() {
        return JobStore.open("jdbc:h2:" + work.root.resolve("data/sandflow"), null, null);
    }

    private static Instant nextLocal(LocalTime at, Instant now) {
        ZonedDateTime local = now.atZone(ZoneId.systemDefault());
        ZonedDateTime candidate = local.with(at);
        if (!candidate.isAfter(local)) {
            candidate = candidate.plusDays(1);
        }
        return candidate.toInstant();
    }
}
