package io.sandflow.process;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything needed to run one child process: argv is a list of separate arguments, never a shell string.
 *
 * @param argv           the executable (a name looked up on the child's PATH, or a path) and its arguments
 * @param environment    entries added to or overriding the parent's environment; a null value removes that variable
 * @param workingDir     the child's working directory, or null to inherit the parent's
 * @param stdin          bytes fed to the child's standard input; empty means stdin is closed at once
 * @param timeout        how long the child (and its tree) may run before it is killed
 * @param maxStdoutBytes how many bytes of stdout to keep; the rest is counted and drained, not stored
 * @param tailBytes      how many trailing bytes of stdout and of stderr to keep as text for reports
 */
public record ProcessSpec(List<String> argv, Map<String, String> environment, Path workingDir, byte[] stdin,
                          Duration timeout, int maxStdoutBytes, int tailBytes) {

    public static final int DEFAULT_MAX_STDOUT_BYTES = 16 * 1024 * 1024;
    public static final int DEFAULT_TAIL_BYTES = 8 * 1024;

    public ProcessSpec {
        Objects.requireNonNull(argv, "argv must not be null");
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("argv must name an executable, but is empty");
        }
        for (int i = 0; i < argv.size(); i++) {
            String arg = argv.get(i);
            if (arg == null) {
                throw new NullPointerException("argv[" + i + "] must not be null");
            }
            // The OS cuts C strings at NUL, so such an argument would silently arrive shortened.
            if (arg.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("argv[" + i + "] contains a NUL character");
            }
        }
        if (argv.get(0).isBlank()) {
            throw new IllegalArgumentException("argv[0] (the executable) must not be blank");
        }
        argv = List.copyOf(argv);

        if (environment == null) {
            environment = Map.of();
        } else {
            // Map.copyOf rejects null values, and null is meaningful here (remove the variable).
            Map<String, String> copy = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : environment.entrySet()) {
                String name = e.getKey();
                if (name == null || name.isEmpty() || name.indexOf('=') >= 0 || name.indexOf('\0') >= 0) {
                    throw new IllegalArgumentException("environment has an invalid variable name: " + name);
                }
                if (e.getValue() != null && e.getValue().indexOf('\0') >= 0) {
                    throw new IllegalArgumentException("environment value of " + name + " contains a NUL character");
                }
                copy.put(name, e.getValue());
            }
            environment = Collections.unmodifiableMap(copy);
        }

        stdin = stdin == null ? new byte[0] : stdin.clone();

        Objects.requireNonNull(timeout, "timeout must not be null");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, but is " + timeout);
        }
        if (maxStdoutBytes < 0) {
            throw new IllegalArgumentException("maxStdoutBytes must be >= 0, but is " + maxStdoutBytes);
        }
        if (tailBytes < 0) {
            throw new IllegalArgumentException("tailBytes must be >= 0, but is " + tailBytes);
        }
    }

    /** A spec with the parent's environment and working directory, no stdin and the default output limits. */
    public static ProcessSpec of(Duration timeout, String... argv) {
        return new ProcessSpec(Arrays.asList(argv), Map.of(), null, new byte[0], timeout,
                DEFAULT_MAX_STDOUT_BYTES, DEFAULT_TAIL_BYTES);
    }

    /** A copy of the stdin bytes, so that callers cannot change a spec after validation. */
    @Override
    public byte[] stdin() {
        return stdin.clone();
    }

    /** Package-private view without the copy, for the runner's own single read. */
    byte[] stdinBytes() {
        return stdin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ProcessSpec other
                && argv.equals(other.argv)
                && environment.equals(other.environment)
                && Objects.equals(workingDir, other.workingDir)
                && Arrays.equals(stdin, other.stdin)
                && timeout.equals(other.timeout)
                && maxStdoutBytes == other.maxStdoutBytes
                && tailBytes == other.tailBytes;
    }

    @Override
    public int hashCode() {
        return Objects.hash(argv, environment, workingDir, Arrays.hashCode(stdin), timeout, maxStdoutBytes, tailBytes);
    }

    /** Lists environment names only: values are often API keys and must not reach logs. */
    @Override
    public String toString() {
        return "ProcessSpec[argv=" + argv + ", environment=" + environment.keySet() + ", workingDir=" + workingDir
                + ", stdin=" + stdin.length + " bytes, timeout=" + timeout + ", maxStdoutBytes=" + maxStdoutBytes
                + ", tailBytes=" + tailBytes + "]";
    }
}
