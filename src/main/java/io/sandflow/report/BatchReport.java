package io.sandflow.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sandflow.job.Durations;
import io.sandflow.job.JobState;
import io.sandflow.ops.FailureCauses;
import io.sandflow.ops.Money;
import io.sandflow.ops.StatusReport;
import io.sandflow.store.AttemptRecord;
import io.sandflow.store.JobRecord;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * {@code sandflow report}: how a batch went, in one screen. Counts, spend, tokens and failure causes are
 * {@code status}'s own ({@link StatusReport}), so the two agree; to them it adds the wall time (first agent run to
 * last), the agent time (all runs added up), the throughput over the wall time, and a histogram of one result field.
 *
 * @param attempts  every agent run the store holds
 * @param histogram the histogram of the chosen field, or null for none
 */
public record BatchReport(StatusReport status, List<JobRecord> jobs, List<AttemptRecord> attempts,
                          Histogram histogram) {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public BatchReport {
        jobs = List.copyOf(jobs);
        attempts = List.copyOf(attempts);
    }

    /** From the first agent run's start to the last one's end; zero before any ran. */
    public Duration wallTime() {
        Instant first = attempts.stream().map(AttemptRecord::startedAt).min(Instant::compareTo).orElse(null);
        Instant last = attempts.stream().map(AttemptRecord::endedAt).max(Instant::compareTo).orElse(null);
        return first == null ? Duration.ZERO : Duration.between(first, last);
    }

    /** Every agent run's time, added up. */
    public Duration agentTime() {
        return attempts.stream().map(a -> Duration.between(a.startedAt(), a.endedAt())).reduce(Duration.ZERO,
                Duration::plus);
    }

    /** Jobs that ran and ended, done or failed (a result found already there is not counted). */
    public long finished() {
        return jobs.stream().filter(j -> j.finishedAt() != null
                && (j.state() == JobState.DONE || j.state() == JobState.FAILED)).count();
    }

    /** Finished jobs per hour of wall time; zero before any ran. */
    public double perHour() {
        long ms = wallTime().toMillis();
        return ms <= 0 ? 0 : finished() * 3_600_000.0 / ms;
    }

    public String text() {
        StringBuilder out = new StringBuilder();
        StatusReport s = status;
        out.append(String.format(Locale.ROOT, "jobs        %d total · done %d · failed %d · parked %d · "
                        + "running %d · pending %d%n", s.total(), s.count(JobState.DONE), s.count(JobState.FAILED),
                s.count(JobState.PARKED), s.count(JobState.RUNNING), s.count(JobState.PENDING)));
        out.append(String.format(Locale.ROOT, "spend       %s · tokens in %,d out %,d%n",
                Money.usd(s.store().totalCostUsd()), s.store().inputTokens(), s.store().outputTokens()));
        if (attempts.isEmpty()) {
            out.append("time        no agent has run yet").append(System.lineSeparator());
        } else {
            out.append(String.format(Locale.ROOT, "time        wall %s (first agent run to last) · agent %s over %d "
                            + "run(s)%n", Durations.human(wallTime()), Durations.human(agentTime()),
                    attempts.size()));
            out.append(String.format(Locale.ROOT, "throughput  %d job(s) finished · %s/h over the wall time%n",
                    finished(), rate(perHour())));
        }
        FailureCauses.appendText(out, s.causes());
        if (histogram != null) {
            out.append(String.format(Locale.ROOT, "%s over %d result(s)%n", histogram.pointer(), histogram.total()));
            out.append(histogram.text());
        }
        return out.toString();
    }

    /** One decimal below ten an hour, whole numbers above. */
    static String rate(double perHour) {
        return perHour < 10 ? String.format(Locale.ROOT, "%.1f", perHour) : String.format(Locale.ROOT, "%,d",
                Math.round(perHour));
    }

    public String json() {
        try {
            ObjectNode root = (ObjectNode) JSON.readTree(status.json());
            ObjectNode time = root.putObject("time");
            time.put("wallSeconds", wallTime().toMillis() / 1000.0);
            time.put("agentSeconds", agentTime().toMillis() / 1000.0);
            time.put("agentRuns", attempts.size());
            root.put("finished", finished());
            root.put("finishedPerHour", Math.round(perHour() * 10) / 10.0);
            if (histogram != null) {
                root.set("histogram", histogram.json());
            }
            root.remove("readMillis");
            return JSON.writeValueAsString(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
