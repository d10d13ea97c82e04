package io.sandflow.report;

import com.fasterxml.jackson.databind.JsonNode;
import io.sandflow.job.JobState;
import io.sandflow.store.JobRecord;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The jobs of a batch as the store has them, oldest first, each done job with the result the outbox holds for it.
 * When several done jobs share a result name (an input changed and ran again), the outbox holds the one that
 * finished last; the others keep their row without a result.
 */
public final class Batch {

    /** One job and its result (null when it has none in the outbox). */
    public record Row(JobRecord job, JsonNode result) {

        public boolean hasResult() {
            return result != null;
        }
    }

    private final List<Row> rows;

    private Batch(List<Row> rows) {
        this.rows = List.copyOf(rows);
    }

    /** Reads the result of each done job that the outbox holds. */
    public static Batch of(List<JobRecord> jobs, ResultFiles outbox) {
        Map<String, JobRecord> holder = new HashMap<>();
        Comparator<JobRecord> latest = Comparator.comparing(JobRecord::finishedAt,
                Comparator.nullsFirst(Comparator.<Instant>naturalOrder())).thenComparingLong(JobRecord::id);
        for (JobRecord j : jobs) {
            if (j.state() == JobState.DONE && j.outputName() != null) {
                holder.merge(j.outputName(), j, (a, b) -> latest.compare(a, b) >= 0 ? a : b);
            }
        }
        List<Row> rows = new ArrayList<>(jobs.size());
        for (JobRecord j : jobs) {
            JsonNode result = null;
            if (j.outputName() != null && holder.get(j.outputName()) == j) {
                result = outbox.read(j.outputName()).orElse(null);
            }
            rows.add(new Row(j, result));
        }
        return new Batch(rows);
    }

    public List<Row> rows() {
        return rows;
    }

    /** The results the outbox holds, one per result file. */
    public List<JsonNode> results() {
        return rows.stream().filter(Row::hasResult).map(Row::result).toList();
    }
}
