package io.sandflow.cli;

import io.sandflow.config.ConfigException;
import io.sandflow.flow.Daemon;
import io.sandflow.config.Settings;
import io.sandflow.job.JobState;
import io.sandflow.report.Estimate;
import io.sandflow.sandbox.WorkerPool;
import io.sandflow.store.AttemptRecord;
import io.sandflow.store.JobRecord;
import io.sandflow.store.JobStore;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * {@code sandflow estimate}: runs a few inputs of the inbox for real, through the same routes as {@code run --once},
 * then projects the cost and time of the rest from what they measured.
 */
@Command(name = "estimate", description = "Run N inputs of the inbox for real (spread over it in name order; their "
        + "results are kept), then project the cost, tokens and time of the rest from their measured cost and agent "
        + "time, the workers and the rate limit. Exit 1 when the inbox has no input, 3 when the sample stayed parked.")
public final class EstimateCommand implements Callable<Integer> {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger("sandflow");

    @CommandLine.ParentCommand
    Sandflow top;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--sample", defaultValue = "5", paramLabel = "N",
            description = "How many inputs to run (default: 5).")
    int sample;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (sample < 1) {
            throw new ConfigException("--sample must be at least 1, got " + sample);
        }
        Settings settings = top.settings();
        PrintWriter out = spec.commandLine().getOut();
        List<String> inputs = inputs(settings);
        if (inputs.isEmpty()) {
            LOG.warn("no input waits in {} to run a sample of", settings.path("sandflow.inbox"));
            return 1;
        }
        List<String> picked = spread(inputs, sample);
        Map<String, Set<String>> before = runsSoFar(settings, picked);
        // The sample runs alone: the include pattern names exactly its files, case and all
        String only = picked.stream().map(Pattern::quote).collect(Collectors.joining("|", "(?-i:", ")"));
        int code = new Daemon(io.sandflow.config.SandflowConfig.of(top.settings(Map.of("sandflow.include", only))), true).run();
        if (code == 2) {
            return code;
        }
        Estimate estimate;
        try (JobStore store = StoreCommands.openStore(settings)) {
            List<Estimate.Sample> samples = new ArrayList<>();
            for (String name : picked) {
                samples.add(measure(store, name, before.getOrDefault(name, Set.of())));
            }
            long remaining = io.sandflow.ops.StatusReport.read(store, settings, 0).remaining();
            int workers = WorkerPool.sandboxNames(settings.positiveInt("sandflow.workers"),
                    settings.list("sandflow.sandbox.names"), settings.required("sandflow.sandbox.name-prefix")).size();
            estimate = new Estimate(samples, remaining, workers, settings.positiveInt("sandflow.rate.per-minute"));
        }
        out.print(json ? estimate.json() + System.lineSeparator() : estimate.text());
        out.flush();
        if (code == 3) {
            LOG.warn("the sample did not finish: some of its jobs are still parked (see sandflow status); the "
                    + "estimate counts only what ran");
        }
        return code == 3 ? 3 : 0;
    }

    /** The inbox's plain files that the include pattern takes, in name order. */
    static List<String> inputs(Settings settings) throws IOException {
        Path inbox = settings.path("sandflow.inbox");
        if (!Files.isDirectory(inbox)) {
            return List.of();
        }
        Pattern include = Pattern.compile(settings.required("sandflow.include"),
                Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.DOTALL);
        try (Stream<Path> list = Files.list(inbox)) {
            return list.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
                    .map(p -> p.getFileName().toString())
                    .filter(n -> include.matcher(n).matches())
                    .sorted().toList();
        }
    }

    /** {@code n} names spread evenly over the list (all of them when it is no longer). */
    static List<String> spread(List<String> names, int n) {
        if (names.size() <= n) {
            return List.copyOf(names);
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(names.get((int) ((long) i * names.size() / n)));
        }
        return out;
    }

    /** The agent runs the store already holds for these names, so that only the sample's own are measured. */
    private static Map<String, Set<String>> runsSoFar(Settings settings, List<String> names) {
        Map<String, Set<String>> runs = new HashMap<>();
        JobStore store;
        try {
            store = StoreCommands.openStore(settings);
        } catch (ConfigException noStoreYet) {
            return runs;
        }
        try (store) {
            for (String name : names) {
                Set<String> seen = new HashSet<>();
                for (JobRecord j : store.findByName(name)) {
                    store.attempts(j.id()).forEach(a -> seen.add(runKey(a)));
                }
                runs.put(name, seen);
            }
        }
        return runs;
    }

    private static String runKey(AttemptRecord a) {
        return a.jobId() + "#" + a.attempt() + "@" + a.startedAt();
    }

    private static Estimate.Sample measure(JobStore store, String name, Set<String> before) {
        JobRecord job = store.findByName(name).stream().max(Comparator.comparingLong(JobRecord::id)).orElse(null);
        if (job == null) {
            return new Estimate.Sample(name, null, BigDecimal.ZERO, 0, 0, Duration.ZERO, 0);
        }
        BigDecimal cost = BigDecimal.ZERO;
        long in = 0;
        long outTokens = 0;
        Duration agent = Duration.ZERO;
        int runs = 0;
        for (AttemptRecord a : store.attempts(job.id())) {
            if (before.contains(runKey(a))) {
                continue;
            }
            cost = cost.add(a.costUsd());
            in += a.inputTokens();
            outTokens += a.outputTokens();
            agent = agent.plus(Duration.between(a.startedAt(), a.endedAt()));
            runs++;
        }
        JobState state = job.state();
        return new Estimate.Sample(name, state, cost, in, outTokens, agent, runs);
    }
}
