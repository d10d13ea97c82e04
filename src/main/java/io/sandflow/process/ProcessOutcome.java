package io.sandflow.process;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;

/**
 * What one child process did: its exit, the bounded part of its stdout, the tails of both streams for reports,
 * and how many stray processes had to be killed.
 *
 * @param exitCode                the child's exit status; 128 + signal when killed by a signal; -1 when unknown
 * @param timedOut                true when the child outran its timeout and its tree was killed
 * @param stdout                  at most {@code maxStdoutBytes} leading bytes of stdout
 * @param stdoutTruncated         true when stdout was longer than what was kept
 * @param stdoutTotalBytes        how many bytes the child wrote to stdout in all
 * @param stdoutTail              the last bytes of stdout as UTF-8 text, malformed bytes replaced
 * @param stderrTail              the last bytes of stderr as UTF-8 text, malformed bytes replaced
 * @param elapsed                 wall time of the whole call, clean-up included
 * @param leftoverProcessesKilled processes other than the main child that were still alive and were killed
 */
public record ProcessOutcome(int exitCode, boolean timedOut, byte[] stdout, boolean stdoutTruncated,
                             long stdoutTotalBytes, String stdoutTail, String stderrTail, Duration elapsed,
                             int leftoverProcessesKilled) {

    public ProcessOutcome {
        stdout = Objects.requireNonNull(stdout, "stdout must not be null").clone();
        Objects.requireNonNull(stdoutTail, "stdoutTail must not be null");
        Objects.requireNonNull(stderrTail, "stderrTail must not be null");
        Objects.requireNonNull(elapsed, "elapsed must not be null");
        if (stdoutTotalBytes < stdout.length) {
            throw new IllegalArgumentException("stdoutTotalBytes (" + stdoutTotalBytes
                    + ") is less than the kept stdout (" + stdout.length + ")");
        }
        if (leftoverProcessesKilled < 0) {
            throw new IllegalArgumentException("leftoverProcessesKilled must be >= 0, but is " + leftoverProcessesKilled);
        }
    }

    /** A copy, so that the outcome stays what the child wrote. */
    @Override
    public byte[] stdout() {
        return stdout.clone();
    }

    /** The kept stdout decoded as UTF-8, malformed bytes replaced. */
    public String stdoutText() {
        return new String(stdout, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ProcessOutcome other
                && exitCode == other.exitCode
                && timedOut == other.timedOut
                && Arrays.equals(stdout, other.stdout)
                && stdoutTruncated == other.stdoutTruncated
                && stdoutTotalBytes == other.stdoutTotalBytes
                && stdoutTail.equals(other.stdoutTail)
                && stderrTail.equals(other.stderrTail)
                && elapsed.equals(other.elapsed)
                && leftoverProcessesKilled == other.leftoverProcessesKilled;
    }

    @Override
    public int hashCode() {
        return Objects.hash(exitCode, timedOut, Arrays.hashCode(stdout), stdoutTruncated, stdoutTotalBytes,
                stdoutTail, stderrTail, elapsed, leftoverProcessesKilled);
    }

    @Override
    public String toString() {
        return "ProcessOutcome[exitCode=" + exitCode + ", timedOut=" + timedOut + ", stdout=" + stdout.length
                + " bytes kept of " + stdoutTotalBytes + (stdoutTruncated ? " (truncated)" : "")
                + ", elapsed=" + elapsed + ", leftoverProcessesKilled=" + leftoverProcessesKilled
                + ", stderrTail=" + stderrTail + "]";
    }
}
