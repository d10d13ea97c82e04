package io.sandflow.ops;

import io.sandflow.job.JobState;
import io.sandflow.store.StatusSnapshot.FailureReason;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class FailureCausesTest {

    @Test
    void reasonsThatDifferInValuesPathsOrQuotedTextAreOneCause() {
        List<FailureReason> reasons = List.of(
                new FailureReason(JobState.FAILED, "the agent's answer was unusable 3 times; the last: /grade is 'low',"
                        + " which is none of 'high', 'low'; /score = 80 calls for 'high'", 3, List.of("a.json", "b.json")),
                new FailureReason(JobState.FAILED, "the agent's answer was unusable 3 times; the last: /grade is 'high',"
                        + " which is none of 'high', 'low'; /score = 20 calls for 'low'", 1, List.of("c.json")),
                new FailureReason(JobState.FAILED, "the agent printed no JSON and wrote no file at $SANDFLOW_OUTPUT "
                        + "(/tmp/w/work/worker-1/out/d.result.json)", 1, List.of("d.json")),
                new FailureReason(JobState.FAILED, "the agent printed no JSON and wrote no file at $SANDFLOW_OUTPUT "
                        + "(/tmp/w/work/worker-2/out/e.result.json)", 1, List.of("e.json")),
                new FailureReason(JobState.PARKED, "the agent printed no JSON and wrote no file at $SANDFLOW_OUTPUT "
                        + "(/tmp/w/work/worker-2/out/f.result.json)", 1, List.of("f.json")));

        List<FailureCauses.Cause> causes = FailureCauses.group(reasons, 10, 5);

        assertThat(causes).hasSize(3);
        assertThat(causes.get(0).count()).isEqualTo(4);
        assertThat(causes.get(0).reason()).contains("/score = 80");
        assertThat(causes.get(0).sampleNames()).containsExactly("a.json", "b.json", "c.json");
        assertThat(causes.get(0).variants()).isEqualTo(2);
        assertThat(causes.get(1).count()).isEqualTo(2);
        assertThat(causes.get(1).state()).isEqualTo(JobState.FAILED);
        assertThat(causes.get(2).state()).as("a parked job is another group").isEqualTo(JobState.PARKED);
        assertThat(FailureCauses.group(reasons, 1, 5)).hasSize(1);
    }

    @Test
    void differentCausesStayApart() {
        List<FailureCauses.Cause> causes = FailureCauses.group(List.of(
                new FailureReason(JobState.FAILED, "the API rejected the request (400): prompt is too long", 1,
                        List.of("a.json")),
                new FailureReason(JobState.FAILED, "the API failed with 500: internal error", 1, List.of("b.json"))),
                10, 5);

        assertThat(causes).hasSize(2);
    }
}
