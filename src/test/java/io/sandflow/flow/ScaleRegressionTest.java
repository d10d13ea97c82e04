package io.sandflow.flow;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CI-sized guard of a flat cost per poll (the heavy runs are {@code bench/scale.sh}): one in-process {@code run --once} over
 * 1,000 inputs with the instant stand-in agent. What a poll examines, the JVM's open files and its threads are
 * taken when a quarter of the jobs have started and again when the last one starts; none may grow with the jobs
 * finished in between, and no poll may examine more than a few batches' worth of files whatever the inbox holds.
 * Counts, not times, so that a loaded machine cannot make it pass or fail.
 */
@Tag("process")
class ScaleRegressionTest {

    private static final int FILES = Integer.getInteger("sandflow.scale.files", 1_000);
    private static final int BATCH = 100;

    @TempDir
    Path dir;

    /** What the JVM holds at one moment, and the intake's counts so far. */
    record Snapshot(int started, long fds, long threads, IntakeWatch.Counts intake) {
    }

    @Test
    void pollCostOpenFilesAndThreadsDoNotGrowWithFinishedJobs() throws Exception {
        Workdir work = new Workdir(dir);
        Path log = dir.resolve("starts.log");
        work.set("sandflow.agent.command", timedInstantAgent(work, log).toString())
                .set("sandflow.agent.env.SCALE_AGENT_LOG", log.toString())
                .set("sandflow.intake.poll", "50ms")
                .set("sandflow.intake.batch", Integer.toString(BATCH))
                .set("sandflow.rate.per-minute", "1000000")
                .set("sandflow.once.max-wait", "30s");
        for (int i = 1; i <= FILES; i++) {
            Files.writeString(work.inbox().resolve(String.format("input-%05d.json", i)),
                    "{\"id\": " + i + ", \"text\": \"scale regression input\"}\n");
        }

        AtomicReference<Snapshot> quarter = new AtomicReference<>();
        AtomicReference<Snapshot> last = new AtomicReference<>();
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "scale-sampler");
            t.setDaemon(true);
            return t;
        });
        sampler.scheduleWithFixedDelay(() -> {
            IntakeWatch watch = IntakeWatch.last();
            int started = starts(log).size();
            if (watch == null || started == 0) {
                return;
            }
            if (quarter.get() == null && started >= FILES / 4) {
                quarter.set(snapshot(started, watch));
                watch.resetMax();
            } else if (last.get() == null && started >= FILES) {
                last.set(snapshot(started, watch));
            }
        }, 0, 10, TimeUnit.MILLISECONDS);
        int exit;
        try {
            exit = work.runOnce();
        } finally {
            sampler.shutdownNow();
        }

        assertThat(exit).isZero();
        List<String> starts = starts(log);
        assertThat(work.names(work.outbox())).hasSize(FILES);
        assertThat(starts).as("each input runs exactly once").hasSize(FILES).doesNotHaveDuplicates();
        Snapshot a = quarter.get();
        Snapshot b = last.get();
        assertThat(a).isNotNull();
        assertThat(b).isNotNull();
        IntakeWatch.Counts early = a.intake();
        IntakeWatch.Counts late = b.intake();
        double earlyPerPoll = (double) early.examined() / Math.max(1, early.polls() - 1);
        double latePerPoll = (double) (late.examined() - early.examined()) / Math.max(1, late.polls() - early.polls());
        System.out.printf("scale regression, %d files: first poll examined %d; at %d started: %d fds, %d threads,"
                        + " %.1f files examined per poll (max %d); at %d started: %d fds, %d threads, %.1f per poll since"
                        + " (max %d)%n", FILES, early.firstPoll(), a.started(), a.fds(), a.threads(), earlyPerPoll,
                early.maxPerPoll(), b.started(), b.fds(), b.threads(), latePerPoll, late.maxPerPoll());

        // A poll examines the files in progress at the front of the name order (the queue, the workers) and at
        // most one batch more: bounded by the batch, not by the inbox (1,000 files here) nor by the jobs done.
        // The first poll is the exception IntakeWatch keeps apart (a one-off walk of the inbox at start).
        assertThat(early.maxPerPoll()).as("files examined by one poll, first quarter").isLessThanOrEqualTo(3L * BATCH);
        assertThat(late.maxPerPoll()).as("files examined by one poll, last three quarters")
                .isLessThanOrEqualTo(3L * BATCH);
        assertThat(latePerPoll).as("files examined per poll, late vs early").isLessThanOrEqualTo(earlyPerPoll * 1.5 + 20);
        // Between the two moments 750 jobs finished; a leak of one descriptor or thread per job would show as
        // hundreds. The slack covers what two running agents hold at either moment (pipes, pump threads).
        assertThat(b.fds()).as("open files, last start vs a quarter").isLessThanOrEqualTo(a.fds() + 16);
        assertThat(b.threads()).as("threads, last start vs a quarter").isLessThanOrEqualTo(a.threads() + 8);
        // The consumer's in-progress set holds the files handed out and not yet finished: at most the batch being
        // dispatched, the workers' queue (one batch) and the running ones; never the jobs already done.
        assertThat(late.inProgress()).as("files held as in progress once all have started")
                .isLessThanOrEqualTo(2 * BATCH + 2);
    }

    private static Snapshot snapshot(int started, IntakeWatch watch) {
        return new Snapshot(started, count(Path.of("/proc/self/fd")), count(Path.of("/proc/self/task")),
                watch.counts());
    }

    private static long count(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The job names in the agents' start log, one per start. */
    private static List<String> starts(Path log) {
        try {
            if (!Files.exists(log)) {
                return List.of();
            }
            String text = Files.readString(log, StandardCharsets.UTF_8);
            return Arrays.stream(text.split("\n")).filter(l -> l.endsWith(".json")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The instant stand-in with one line in front that logs each start (a shell builtin: no extra process). */
    private static Path timedInstantAgent(Workdir work, Path log) throws IOException {
        Path instant = work.executableCopy("instant-agent.sh");
        List<String> body = Files.readAllLines(instant, StandardCharsets.UTF_8);
        Path timed = instant.resolveSibling("timed-instant-agent.sh");
        StringBuilder script = new StringBuilder("#!/usr/bin/env bash\n")
                .append("printf '%s\\n' \"$SANDFLOW_JOB_NAME\" >>\"$SCALE_AGENT_LOG\"\n");
        body.stream().skip(1).forEach(line -> script.append(line).append('\n'));
        Files.writeString(timed, script.toString(), StandardCharsets.UTF_8);
        timed.toFile().setExecutable(true);
        return timed;
    }
}
