package io.sandflow.report;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sandflow.job.JobState;
import io.sandflow.store.AttemptRecord;
import io.sandflow.store.JobRecord;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The plain arithmetic behind export, report, estimate and the console's chart. */
class ReportMathTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aFieldIsNameEqualsPointerAndFindsScalarsAndContainers() throws Exception {
        ResultField score = ResultField.parse("score=/تفصيل/درجة");
        JsonNode result = JSON.readTree("{\"تفصيل\": {\"درجة\": 85}, \"tags\": [\"a\", \"b\"]}");
        assertThat(score.textIn(result)).isEqualTo("85");
        assertThat(ResultField.parse("tags=/tags").textIn(result)).isEqualTo("[\"a\",\"b\"]");
        assertThat(ResultField.parse("x=/missing").valueIn(result).isMissingNode()).isTrue();
        assertThat(ResultField.parse("x=/missing").textIn(null)).isEmpty();
        assertThatThrownBy(() -> ResultField.parse("score")).hasMessage("'score' is not NAME=/json/pointer");
        assertThatThrownBy(() -> ResultField.parse("file=/file")).hasMessageContaining("already a column");
        assertThatThrownBy(() -> ResultField.parseAll(List.of("a=/x", "a=/y")))
                .hasMessage("the field name a is given twice");
    }

    @Test
    void manyDistinctNumbersFallIntoTenEqualRanges() throws Exception {
        List<JsonNode> results = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            results.add(JSON.readTree("{\"score\": " + i + "}"));
        }
        results.add(JSON.readTree("{}"));
        Histogram h = Histogram.of(JsonPointer.compile("/score"), results, List.of());
        assertThat(h.bars()).extracting(Histogram.Bar::label).containsExactly("0–9", "10–19", "20–29", "30–39",
                "40–49", "50–59", "60–69", "70–79", "80–89", "90–99");
        assertThat(h.bars()).extracting(Histogram.Bar::count).containsOnly(10L);
        assertThat(h.withoutValue()).isEqualTo(1);
        assertThat(h.text().lines().toList()).last().isEqualTo("   1  ████" + " ".repeat(36) + "  (no value)");
    }

    @Test
    void aSchemaEnumGivesTheOrderOfTheBars() throws Exception {
        JsonNode schema = JSON.readTree("{\"properties\": {\"g\": {\"enum\": [\"high\", \"mid\", \"low\"]}}}");
        List<String> order = Histogram.enumAt(schema, JsonPointer.compile("/g"));
        assertThat(order).containsExactly("high", "mid", "low");
        Histogram h = Histogram.of(JsonPointer.compile("/g"), List.of(JSON.readTree("{\"g\": \"low\"}"),
                JSON.readTree("{\"g\": \"other\"}")), order);
        assertThat(h.bars()).extracting(b -> b.label() + "=" + b.count()).containsExactly("high=0", "mid=0",
                "low=1", "other=1");
        assertThat(Histogram.enumAt(schema, JsonPointer.compile("/nothing"))).isEmpty();
    }

    @Test
    void theEstimateScalesTheSampleAndTakesTheLongerOfTheTwoBounds() {
        List<Estimate.Sample> samples = List.of(
                new Estimate.Sample("a", JobState.DONE, new BigDecimal("0.30"), 1000, 100, Duration.ofSeconds(60), 1),
                new Estimate.Sample("b", JobState.DONE, new BigDecimal("0.50"), 3000, 300, Duration.ofSeconds(120),
                        2),
                new Estimate.Sample("c", JobState.FAILED, new BigDecimal("0.10"), 2000, 200, Duration.ofSeconds(30),
                        3),
                new Estimate.Sample("d", JobState.DONE, BigDecimal.ZERO, 0, 0, Duration.ZERO, 0));
        Estimate e = new Estimate(samples, 30, 2, 60);
        assertThat(e.measured()).hasSize(3);
        assertThat(e.projectedCost()).isEqualByComparingTo("9.00");
        assertThat(e.projectedTokensIn()).isEqualTo(60_000);
        // 210 s of agent time per 3 inputs, 30 inputs, 2 workers: 1050 s; 6 runs per 3 inputs at 60/min: 60 s
        assertThat(e.workersBound()).isEqualTo(Duration.ofSeconds(1050));
        assertThat(e.rateBound()).isEqualTo(Duration.ofSeconds(60));
        assertThat(e.projectedTime()).isEqualTo(Duration.ofSeconds(1050));
        assertThat(e.rateLimited()).isFalse();
        assertThat(new Estimate(samples, 30, 100, 2).projectedTime()).isEqualTo(Duration.ofMinutes(30));
        assertThat(e.text()).contains("expect about 10 of the rest to fail too")
                .contains("1 more had run before and were not measured again");
    }

    @Test
    void theTimelineBucketsFinishesAndSpend() {
        Instant t0 = Instant.parse("2026-01-01T10:00:00Z");
        List<JobRecord> jobs = List.of(job(1, JobState.DONE, t0.plusSeconds(30)),
                job(2, JobState.FAILED, t0.plusSeconds(90)), job(3, JobState.PENDING, null));
        List<AttemptRecord> attempts = List.of(attempt(1, t0.plusSeconds(30), "0.25"),
                attempt(2, t0.plusSeconds(95), "0.5"));
        Timeline t = Timeline.of(jobs, attempts, t0.plusSeconds(150));
        assertThat(t.bucket()).isEqualTo(Duration.ofSeconds(5));
        assertThat(t.buckets()).hasSize(25);
        assertThat(t.buckets().stream().mapToLong(Timeline.Bucket::done).sum()).isEqualTo(1);
        assertThat(t.buckets().stream().mapToLong(Timeline.Bucket::failed).sum()).isEqualTo(1);
        assertThat(t.buckets().get(0).spendUsd()).isEqualByComparingTo("0.25");
        assertThat(t.buckets().get(13).spendUsd()).isEqualByComparingTo("0.5");
        assertThat(Timeline.of(List.of(), List.of(), t0).buckets()).isEmpty();
    }

    private static JobRecord job(long id, JobState state, Instant finished) {
        return new JobRecord(id, "f" + id, "sha", state, 1, null, null, finished, 1000L, BigDecimal.ZERO, 0, 0, 0,
                null, null, null, null, "node", null, 1, null, null);
    }

    private static AttemptRecord attempt(long job, Instant ended, String cost) {
        return new AttemptRecord(job, 1, ended.minusSeconds(1), ended, 0, false, null, null, new BigDecimal(cost), 0,
                0, "node", null);
    }
}
