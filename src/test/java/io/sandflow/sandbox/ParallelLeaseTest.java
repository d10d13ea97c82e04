package io.sandflow.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.sandflow.process.ProcessOutcome;
import io.sandflow.process.ProcessRunner;
import io.sandflow.process.ProcessSpec;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Four workers on four sandboxes: judged from what the sbx stand-in recorded, never from the pool's own word. */
@Timeout(value = 90, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ParallelLeaseTest {

    private static final int WORKERS = 4;
    private static final int JOBS = 16;

    @TempDir
    Path dir;

    private record Interval(String sandbox, long start, long end) {
    }

    @Test
    void fourWorkersOnFourSandboxesNeverShareOneAtTheSameTime() throws Exception {
        FakeSandboxCli fake = new FakeSandboxCli(dir.resolve("fake"));
        ProcessRunner runner = new ProcessRunner();
        WorkerPool pool = new WorkerPool(dir.resolve("work"), WorkerPool.sandboxNames(WORKERS, List.of(), "sandflow-"));
        SbxSandbox sandbox = new SbxSandbox(fake.sbx(), List.of("api.anthropic.com"), Duration.ofSeconds(20), runner);
        pool.prepare(sandbox);

        ExecutorService workers = Executors.newFixedThreadPool(WORKERS);
        List<Future<Integer>> jobs = new ArrayList<>();
        for (int j = 0; j < JOBS; j++) {
            jobs.add(workers.submit(() -> {
                Workspace ws = pool.lease();
                try {
                    // The agent stands still for a moment so that jobs on different sandboxes overlap.
                    ProcessOutcome outcome = runner.run(ProcessSpec.of(Duration.ofSeconds(20),
                            sandbox.wrap(List.of("sleep", "0.15"), ws, Map.of()).toArray(String[]::new)));
                    return outcome.exitCode();
                } finally {
                    pool.release(ws);
                }
            }));
        }
        for (Future<Integer> job : jobs) {
            assertThat(job.get(60, TimeUnit.SECONDS)).isZero();
        }
        workers.shutdown();

        List<Interval> runs = intervals(fake.calls());
        assertThat(runs).hasSize(JOBS);
        Map<String, List<Interval>> bySandbox = new HashMap<>();
        runs.forEach(r -> bySandbox.computeIfAbsent(r.sandbox(), k -> new ArrayList<>()).add(r));
        assertThat(bySandbox).containsOnlyKeys("sandflow-1", "sandflow-2", "sandflow-3", "sandflow-4");
        bySandbox.forEach((name, list) -> {
            list.sort(Comparator.comparingLong(Interval::start));
            for (int i = 1; i < list.size(); i++) {
                assertThat(list.get(i).start()).as("%s used by two overlapping execs", name)
                        .isGreaterThanOrEqualTo(list.get(i - 1).end());
            }
        });
        // And the workers did run side by side: some two execs on different sandboxes overlapped.
        assertThat(runs).anySatisfy(a -> assertThat(runs).anyMatch(b -> !a.sandbox().equals(b.sandbox())
                && a.start() < b.end() && b.start() < a.end()));
    }

    /** Pairs each exec's start with its end by the stand-in's pid. */
    private static List<Interval> intervals(List<FakeSandboxCli.Call> calls) {
        Map<Long, FakeSandboxCli.Call> open = new HashMap<>();
        List<Interval> out = new ArrayList<>();
        for (FakeSandboxCli.Call call : calls) {
            if (call.isExec()) {
                open.put(call.pid(), call);
            } else if (call.phase().equals("end")) {
                FakeSandboxCli.Call start = open.remove(call.pid());
                out.add(new Interval(start.execTarget(), start.micros(), call.micros()));
            }
        }
        assertThat(open).as("execs that never finished").isEmpty();
        return out;
    }
}
