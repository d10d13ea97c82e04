package io.sandflow.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sandflow.job.JobState;
import io.sandflow.ops.Money;
import io.sandflow.ops.StatusReport;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * {@code sandflow estimate}: what the rest of the inbox would cost and take, projected from a sample of inputs that
 * really ran. Cost and tokens scale with the number of inputs; time is the longer of two bounds: the agent time per
 * input spread over the workers, and the agent runs per input at the rate limit.
 *
 * @param samples   the sample's jobs as they ended
 * @param remaining inputs still to run after the sample
 * @param workers   agent runs at once (sandflow.workers, or fewer sandbox names)
 * @param perMinute agent runs started per minute at most (sandflow.rate.per-minute)
 */
public record Estimate(List<Sample> samples, long remaining, int workers, int perMinute) {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** One input of the sample: how its job ended, what it cost, and its agent runs' time and number. */
    public record Sample(String name, JobState state, BigDecimal costUsd, long inputTokens, long outputTokens,
                         Duration agentTime, int runs) {
    }

    public Estimate {
        samples = List.copyOf(samples);
        if (workers < 1 || perMinute < 1) {
            throw new IllegalArgumentException("workers and perMinute must be positive");
        }
    }

    /** The inputs of the sample whose agent ran in it: the ones measured. */
    public List<Sample> measured() {
        return samples.stream().filter(s -> s.runs() > 0).toList();
    }

    public BigDecimal sampleCost() {
        return measured().stream().map(Sample::costUsd).reduce(BigDecimal.ZERO, BigDecimal::add);
    }

    public long sampleTokensIn() {
        return measured().stream().mapToLong(Sample::inputTokens).sum();
    }

    public long sampleTokensOut() {
        return measured().stream().mapToLong(Sample::outputTokens).sum();
    }

    public Duration sampleAgentTime() {
        return measured().stream().map(Sample::agentTime).reduce(Duration.ZERO, Duration::plus);
    }

    public int sampleRuns() {
        return measured().stream().mapToInt(Sample::runs).sum();
    }

    public long failed() {
        return measured().stream().filter(s -> s.state() == JobState.FAILED).count();
    }

    /** The sample's total scaled to {@code count} inputs; zero when nothing was measured. */
    private BigDecimal scaled(BigDecimal total, long count) {
        int n = measured().size();
        return n == 0 ? BigDecimal.ZERO : total.multiply(BigDecimal.valueOf(count))
                .divide(BigDecimal.valueOf(n), 6, RoundingMode.HALF_UP).stripTrailingZeros();
    }

    public BigDecimal perInputCost() {
        return scaled(sampleCost(), 1);
    }

    public BigDecimal projectedCost() {
        return scaled(sampleCost(), remaining);
    }

    public long projectedTokensIn() {
        return scaled(BigDecimal.valueOf(sampleTokensIn()), remaining).setScale(0, RoundingMode.HALF_UP).longValue();
    }

    public long projectedTokensOut() {
        return scaled(BigDecimal.valueOf(sampleTokensOut()), remaining).setScale(0, RoundingMode.HALF_UP).longValue();
    }

    /** The agent time of the rest, spread over the workers. */
    public Duration workersBound() {
        int n = measured().size();
        return n == 0 ? Duration.ZERO
                : Duration.ofMillis(Math.round((double) sampleAgentTime().toMillis() * remaining / n / workers));
    }

    /** The agent runs of the rest, at the rate limit. */
    public Duration rateBound() {
        int n = measured().size();
        return n == 0 ? Duration.ZERO
                : Duration.ofMillis(Math.round((double) sampleRuns() * remaining / n * 60_000 / perMinute));
    }

    public Duration projectedTime() {
        Duration w = workersBound();
        Duration r = rateBound();
        return w.compareTo(r) >= 0 ? w : r;
    }

    public boolean rateLimited() {
        return rateBound().compareTo(workersBound()) > 0;
    }

    public String text() {
        StringBuilder out = new StringBuilder();
        List<Sample> m = measured();
        int n = m.size();
        out.append(String.format(Locale.ROOT, "sample    %d input(s) ran: %d done, %d failed · %s · tokens in %,d "
                        + "out %,d · agent %s over %d run(s)%n", n, n - failed(), failed(), Money.usd(sampleCost()),
                sampleTokensIn(), sampleTokensOut(), io.sandflow.job.Durations.human(sampleAgentTime()), sampleRuns()));
        if (samples.size() > n) {
            out.append(String.format(Locale.ROOT, "          %d more had run before and were not measured again%n",
                    samples.size() - n));
        }
        if (n == 0) {
            out.append("estimate  none: no input of the sample ran").append(System.lineSeparator());
            return out.toString();
        }
        out.append(String.format(Locale.ROOT, "per input %s · tokens in %,d out %,d · agent %s · %s run(s)%n",
                Money.usd(perInputCost()), Math.round((double) sampleTokensIn() / n),
                Math.round((double) sampleTokensOut() / n), io.sandflow.job.Durations.human(sampleAgentTime().dividedBy(n)),
                oneDecimal((double) sampleRuns() / n)));
        out.append(String.format(Locale.ROOT, "the rest  %d input(s) still to run%n", remaining));
        out.append(String.format(Locale.ROOT, "estimate  %s · tokens in %,d out %,d · about %s with %d worker(s) at "
                        + "%d run(s)/min%s%n", Money.usd(projectedCost()), projectedTokensIn(), projectedTokensOut(),
                io.sandflow.job.Durations.human(projectedTime()), workers, perMinute,
                rateLimited() ? " (the rate limit sets the pace; the workers alone would take "
                        + io.sandflow.job.Durations.human(workersBound()) + ")" : ""));
        if (failed() > 0) {
            out.append(String.format(Locale.ROOT, "          %d of the %d sampled input(s) failed: expect about %d "
                    + "of the rest to fail too%n", failed(), n, Math.round((double) failed() * remaining / n)));
        }
        return out.toString();
    }

    private static String oneDecimal(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    public String json() {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode sample = root.putArray("sample");
        for (Sample s : samples) {
            ObjectNode o = sample.addObject();
            o.put("file", s.name());
            o.put("state", s.state() == null ? null : s.state().name().toLowerCase(Locale.ROOT));
            o.put("costUsd", s.costUsd());
            o.put("tokensIn", s.inputTokens());
            o.put("tokensOut", s.outputTokens());
            o.put("agentSeconds", s.agentTime().toMillis() / 1000.0);
            o.put("runs", s.runs());
            o.put("measured", s.runs() > 0);
        }
        root.put("remaining", remaining);
        root.put("workers", workers);
        root.put("ratePerMinute", perMinute);
        ObjectNode est = root.putObject("estimate");
        est.put("costUsd", projectedCost());
        est.put("tokensIn", projectedTokensIn());
        est.put("tokensOut", projectedTokensOut());
        est.put("seconds", projectedTime().toMillis() / 1000.0);
        est.put("rateLimited", rateLimited());
        est.put("expectedFailures", measured().isEmpty() ? 0 : Math.round((double) failed() * remaining
                / measured().size()));
        try {
            return JSON.writeValueAsString(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
