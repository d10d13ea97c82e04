package io.sandflow.flow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sandflow.store.AttemptRecord;
import io.sandflow.store.JobRecord;
import io.sandflow.store.JobStore;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code export}, {@code report}, {@code estimate} and {@code show} over a working folder that a real
 * {@code run --once} with the stand-in agent left behind: exact rows and figures, checked against the ledger.
 */
@Tag("process")
class BatchViewsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String GRADE = "/تقدير_الجودة";

    @TempDir
    Path dir;
    Workdir work;

    @BeforeEach
    void setUp() throws IOException {
        // One worker: the jobs are claimed, and so listed, in name order
        work = new Workdir(dir).set("sandflow.workers", "1").set("sandflow.agent.env.STANDIN_COST_USD", "0.25");
    }

    @Test
    void exportWritesOneRowPerJobWithTheChosenFieldsAndUnicodeRoundTrips() throws IOException {
        work.ask("a-ok.json", "success");
        work.ask("b-عربي.json", "arabic");
        work.ask("c, \"quoted\".json", "success");
        work.ask("d-rejected.json", "bad-request");
        work.ask("e-invalid.json", "schema-mismatch");
        assertThat(work.runOnce()).isEqualTo(1);

        Path csvFile = dir.resolve("batch.csv");
        Run csv;
        try (LogCapture log = LogCapture.start()) {
            csv = sandflow("export", "--out", csvFile.toString(), "--bom", "--field", "summary=/summary",
                    "--field", "tag2=/tags/1", "--field", "nothing=/no/such/field");
            assertThat(log.messages()).contains("sandflow the field nothing (/no/such/field) matched nothing in 3 "
                    + "result(s); its column is empty");
            assertThat(log.messages()).noneMatch(l -> l.contains("the field summary") || l.contains("the field tag2"));
        }
        assertThat(csv.code).isZero();
        assertThat(csv.out).isEmpty();
        byte[] bytes = Files.readAllBytes(csvFile);
        assertThat(bytes).startsWith(0xEF, 0xBB, 0xBF);
        List<CSVRecord> records = parseCsv(new String(bytes, 3, bytes.length - 3, StandardCharsets.UTF_8));
        assertThat(records.get(0).values()).containsExactly("file", "state", "class", "reason", "attempts",
                "cost_usd", "tokens_in", "tokens_out", "duration_s", "node", "finished_at", "result_file", "summary",
                "tag2", "nothing");
        List<CSVRecord> rows = records.subList(1, records.size());
        assertThat(rows).extracting(r -> r.get(0)).containsExactly("a-ok.json", "b-عربي.json", "c, \"quoted\".json",
                "d-rejected.json", "e-invalid.json");
        for (CSVRecord row : rows) {
            JobRecord job = only(row.get(0));
            assertThat(row.get("state")).isEqualTo(job.state().name().toLowerCase(java.util.Locale.ROOT));
            assertThat(row.get("attempts")).isEqualTo(Integer.toString(job.attempts()));
            assertThat(new BigDecimal(row.get("cost_usd"))).isEqualByComparingTo(job.costUsd());
            assertThat(row.get("tokens_in")).isEqualTo(Long.toString(job.inputTokens()));
            assertThat(row.get("tokens_out")).isEqualTo(Long.toString(job.outputTokens()));
            assertThat(new BigDecimal(row.get("duration_s")))
                    .isEqualByComparingTo(BigDecimal.valueOf(job.durationMs(), 3));
            assertThat(row.get("node")).isEqualTo(job.owner());
            assertThat(row.get("finished_at")).isEqualTo(job.finishedAt().toString());
            assertThat(row.get("nothing")).isEmpty();
        }
        CSVRecord ok = rows.get(0);
        assertThat(List.of(ok.get("class"), ok.get("reason"), ok.get("attempts"), ok.get("cost_usd"),
                ok.get("tokens_in"), ok.get("tokens_out"), ok.get("result_file"), ok.get("summary"), ok.get("tag2")))
                .containsExactly("", "", "1", "0.25", "1200", "80", "a-ok.result.json",
                        "Stand-in summary of a-ok.json: the file was read and summarised.", "");
        CSVRecord arabic = rows.get(1);
        JsonNode arabicResult = work.json(work.outbox().resolve("b-عربي.result.json"));
        assertThat(arabic.get("summary")).isEqualTo(arabicResult.path("summary").asText())
                .startsWith("ملخص تجريبي للملف «b-عربي.json»");
        assertThat(arabic.get("tag2")).isEqualTo("عربي");
        assertThat(arabic.get("result_file")).isEqualTo("b-عربي.result.json");
        assertThat(rows.get(2).get("result_file")).isEqualTo("c, \"quoted\".result.json");
        CSVRecord rejected = rows.get(3);
        assertThat(List.of(rejected.get("state"), rejected.get("class"), rejected.get("attempts"),
                rejected.get("cost_usd"), rejected.get("tokens_in"), rejected.get("result_file"),
                rejected.get("summary"))).containsExactly("failed", "permanent", "1", "0", "0", "", "");
        assertThat(rejected.get("reason")).isEqualTo(only("d-rejected.json").failureReason()).contains("400");
        CSVRecord invalid = rows.get(4);
        assertThat(List.of(invalid.get("state"), invalid.get("attempts"), invalid.get("cost_usd"),
                invalid.get("tokens_in"), invalid.get("tokens_out"))).containsExactly("failed", "3", "0.75", "3600",
                "240");
        assertThat(invalid.get("class")).isEqualTo(only("e-invalid.json").failureClass().label());

        Run jsonl = sandflow("export", "--format", "jsonl", "--field", "summary=/summary", "--field", "tags=/tags",
                "--field", "nothing=/no/such/field");
        assertThat(jsonl.code).isZero();
        List<JsonNode> lines = new ArrayList<>();
        for (String line : jsonl.out.split("\n")) {
            lines.add(JSON.readTree(line));
        }
        assertThat(lines).hasSize(5);
        JsonNode b = lines.get(1);
        assertThat(b.path("file").asText()).isEqualTo("b-عربي.json");
        assertThat(b.path("summary")).isEqualTo(arabicResult.path("summary"));
        assertThat(b.path("tags")).isEqualTo(arabicResult.path("tags"));
        assertThat(b.path("nothing").isNull()).isTrue();
        assertThat(b.path("cost_usd").decimalValue()).isEqualByComparingTo("0.25");
        assertThat(b.path("tokens_in").isIntegralNumber()).isTrue();
        JsonNode d = lines.get(3);
        assertThat(d.path("result_file").isNull()).isTrue();
        assertThat(d.path("summary").isNull()).isTrue();
        assertThat(d.path("class").asText()).isEqualTo("permanent");
    }

    @Test
    void theMasaderProfileExportsScoreGradeAndNameAndReportsTheGradeBands() throws IOException {
        work.profiles.add("masader");
        masader("a.json", "Arabic Sentiment Tweets", 85);
        masader("b.json", "مدونة الحوار", 90);
        masader("c.json", "Gulf Dialects", 65);
        masader("d.json", "Tiny Corpus", 30);
        work.ask("e-rejected.json", "bad-request");
        assertThat(work.runOnce()).isEqualTo(1);

        Run csv = sandflow("export");
        assertThat(csv.code).isZero();
        List<CSVRecord> records = parseCsv(csv.out);
        assertThat(records.get(0).values()).endsWith("result_file", "score", "grade", "name");
        assertThat(records.subList(1, 6)).extracting(r -> r.get(0) + " " + r.get("score") + " " + r.get("grade")
                + " " + r.get("name")).containsExactly("a.json 85 ممتاز Arabic Sentiment Tweets",
                "b.json 90 ممتاز مدونة الحوار", "c.json 65 جيد Gulf Dialects", "d.json 30 ضعيف Tiny Corpus",
                "e-rejected.json   ");

        Run report = sandflow("report");
        assertThat(report.code).isZero();
        List<AttemptRecord> runs = attempts();
        String[] lines = report.out.split("\n");
        assertThat(lines[0]).isEqualTo("jobs        5 total · done 4 · failed 1 · parked 0 · running 0 · pending 0");
        assertThat(lines[1]).isEqualTo("spend       $1.00 · tokens in 4,800 out 320");
        java.time.Instant first = runs.stream().map(AttemptRecord::startedAt).min(java.time.Instant::compareTo)
                .orElseThrow();
        java.time.Instant last = runs.stream().map(AttemptRecord::endedAt).max(java.time.Instant::compareTo)
                .orElseThrow();
        Duration agent = runs.stream().map(a -> Duration.between(a.startedAt(), a.endedAt()))
                .reduce(Duration.ZERO, Duration::plus);
        assertThat(lines[2]).isEqualTo("time        wall " + io.sandflow.job.Durations.human(Duration.between(first, last))
                + " (first agent run to last) · agent " + io.sandflow.job.Durations.human(agent) + " over 5 run(s)");
        assertThat(lines[3]).startsWith("throughput  5 job(s) finished · ");
        assertThat(lines[4]).isEqualTo("why jobs failed or wait");
        assertThat(lines[5]).contains("failed").contains("400");
        assertThat(lines[6].strip()).isEqualTo("e-rejected.json");
        assertThat(lines[7]).isEqualTo(GRADE + " over 4 result(s)");
        // the schema's band order, an empty band included; the value last on its line
        assertThat(List.of(lines).subList(8, 12)).containsExactly(
                "  2  " + "█".repeat(40) + "  ممتاز",
                "  1  " + "█".repeat(20) + " ".repeat(20) + "  جيد",
                "  0  " + " ".repeat(40) + "  مقبول",
                "  1  " + "█".repeat(20) + " ".repeat(20) + "  ضعيف");
        assertThat(lines).hasSize(12);

        Run scores = sandflow("report", "--json", "--histogram", "/درجة_الجودة");
        JsonNode json = JSON.readTree(scores.out);
        assertThat(json.path("counts").path("done").asLong()).isEqualTo(4);
        assertThat(json.path("spendUsd").decimalValue()).isEqualByComparingTo("1.00");
        assertThat(json.path("time").path("agentRuns").asInt()).isEqualTo(5);
        assertThat(json.path("histogram").path("bars").toString())
                .isEqualTo("[{\"value\":\"30\",\"count\":1},{\"value\":\"65\",\"count\":1},"
                        + "{\"value\":\"85\",\"count\":1},{\"value\":\"90\",\"count\":1}]");
    }

    @Test
    void estimateRunsOnlyTheSampleAndProjectsTheRestFromIt() throws IOException {
        for (int i = 1; i <= 7; i++) {
            work.ask("in-" + i + ".json", "success");
        }
        Run run = sandflow("estimate", "--sample", "3", "--json");

        assertThat(run.code).isZero();
        // spread over the inbox in name order: the 1st, 3rd and 5th of seven
        List<String> sampled = List.of("in-1.json", "in-3.json", "in-5.json");
        for (int i = 1; i <= 7; i++) {
            String name = "in-" + i + ".json";
            assertThat(work.agentCalls(name)).as(name).isEqualTo(sampled.contains(name) ? 1 : 0);
            assertThat(Files.exists(work.inbox().resolve(name))).as(name).isEqualTo(!sampled.contains(name));
        }
        JsonNode json = JSON.readTree(run.out);
        assertThat(json.path("remaining").asLong()).isEqualTo(4);
        assertThat(json.path("workers").asInt()).isEqualTo(1);
        JsonNode est = json.path("estimate");
        assertThat(est.path("costUsd").decimalValue()).isEqualByComparingTo("1.00");
        assertThat(est.path("tokensIn").asLong()).isEqualTo(4 * 1200);
        assertThat(est.path("tokensOut").asLong()).isEqualTo(4 * 80);
        long agentMs = 0;
        for (String name : sampled) {
            for (AttemptRecord a : attemptsOf(name)) {
                agentMs += Duration.between(a.startedAt(), a.endedAt()).toMillis();
            }
        }
        // one worker, and a rate limit (60,000 a minute) that never binds: the rest takes its agent time
        assertThat(est.path("rateLimited").asBoolean()).isFalse();
        assertThat(est.path("seconds").asDouble()).isEqualTo(Math.round(agentMs * 4.0 / 3) / 1000.0);
        assertThat(json.path("sample")).extracting(s -> s.path("file").asText()).containsExactlyElementsOf(sampled);

        Run text = sandflow("estimate", "--sample", "1");
        assertThat(text.code).isZero();
        assertThat(text.out).contains("sample    1 input(s) ran: 1 done, 0 failed · $0.25 · tokens in 1,200 out 80")
                .contains("the rest  3 input(s) still to run")
                .contains("estimate  $0.75 · tokens in 3,600 out 240 · about ");
    }

    @Test
    void showPrintsEachAgentRunOfAJob() throws IOException {
        work.set("sandflow.retry.max-attempts", "5");
        work.ask("flaky.json", "flaky-2");
        assertThat(work.runOnce()).isZero();

        Run show = sandflow("show", "failed/flaky.json");
        assertThat(show.code).isZero();
        List<AttemptRecord> runs = attemptsOf("flaky.json");
        assertThat(runs).hasSize(3);
        assertThat(show.out).contains("file      flaky.json").contains("state     done")
                .contains("result    outbox/flaky.result.json").contains("agent runs");
        for (AttemptRecord a : runs) {
            assertThat(show.out).contains("#" + a.attempt() + "   " + a.startedAt());
        }
        assertThat(show.out.lines().filter(l -> l.contains(" exit 1 ") && l.contains("transient")).count())
                .isEqualTo(2);
        assertThat(show.out.lines().filter(l -> l.contains(" exit 0 ") && l.contains(" ok ")).count()).isEqualTo(1);
        assertThat(show.out).contains("429");

        JsonNode json = JSON.readTree(sandflow("show", "--json", "flaky.json").out);
        assertThat(json.get(0).path("runs")).extracting(r -> r.path("class").asText())
                .containsExactly("transient", "transient", "null");

        try (LogCapture log = LogCapture.start()) {
            assertThat(sandflow("show", "nope.json").code).isEqualTo(1);
            assertThat(log.messages()).contains("sandflow the store knows no job of nope.json");
        }
    }

    @Test
    void aFieldThatIsNoJsonPointerIsOneSentenceAndExitTwo() throws IOException {
        work.ask("a.json", "success");
        assertThat(work.runOnce()).isZero();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.io.PrintStream original = System.err;
        System.setErr(new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            assertThat(sandflow("export", "--field", "score=score").code).isEqualTo(2);
            work.set("sandflow.export.fields", "score");
            assertThat(sandflow("export").code).isEqualTo(2);
        } finally {
            System.setErr(original);
        }
        List<String> sentences = err.toString(StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("sandflow: "))
                .toList();
        assertThat(sentences).hasSize(2);
        assertThat(sentences.get(0)).isEqualTo("sandflow: --field: 'score=score': a JSON pointer starts with '/', as "
                + "in /score or /summary/title");
        assertThat(sentences.get(1)).startsWith("sandflow: sandflow.export.fields must list NAME=/json/pointer");
    }

    private void masader(String name, String dataset, int score) throws IOException {
        work.drop(name, "{\"standin\": \"masader\", \"Name\": \"" + dataset + "\", \"standin_score\": " + score
                + "}\n");
    }

    private List<CSVRecord> parseCsv(String text) throws IOException {
        try (CSVParser parser = CSVParser.parse(new StringReader(text), CSVFormat.RFC4180)) {
            List<CSVRecord> records = parser.getRecords();
            Map<String, Integer> header = new LinkedHashMap<>();
            for (int i = 0; i < records.get(0).size(); i++) {
                header.put(records.get(0).get(i), i);
            }
            List<CSVRecord> named = new ArrayList<>();
            try (CSVParser again = CSVParser.parse(new StringReader(text),
                    CSVFormat.RFC4180.builder().setHeader(header.keySet().toArray(String[]::new)).get())) {
                named.addAll(again.getRecords());
            }
            return named;
        }
    }

    private JobRecord only(String name) {
        List<JobRecord> jobs = work.ledger(name);
        assertThat(jobs).as(name).hasSize(1);
        return jobs.get(0);
    }

    private List<AttemptRecord> attempts() {
        try (JobStore store = JobStore.open("jdbc:h2:" + dir.resolve("data/sandflow"), null, null)) {
            return store.attemptsEndedSince(java.time.Instant.EPOCH);
        }
    }

    private List<AttemptRecord> attemptsOf(String name) {
        try (JobStore store = JobStore.open("jdbc:h2:" + dir.resolve("data/sandflow"), null, null)) {
            return store.attempts(store.findByName(name).get(0).id());
        }
    }

    private record Run(int code, String out) {
    }

    private Run sandflow(String... command) {
        List<String> args = new ArrayList<>(List.of("-C", dir.toString()));
        work.profiles.forEach(p -> args.addAll(List.of("--profile", p)));
        work.settings.forEach((k, v) -> args.add("-D" + k + "=" + v));
        args.addAll(List.of(command));
        StringWriter out = new StringWriter();
        int code = io.sandflow.cli.Sandflow.execute(new PrintWriter(out), args.toArray(String[]::new));
        return new Run(code, out.toString());
    }
}
