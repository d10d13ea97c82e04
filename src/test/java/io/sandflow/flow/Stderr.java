package io.sandflow.flow;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * What the command under test writes to stderr, where Sandflow puts its logs and its one-sentence errors. Register it
 * with {@code @RegisterExtension}: each test starts with an empty capture, and the captured text is echoed to stdout
 * afterwards so that a failing test shows it.
 */
public final class Stderr implements BeforeEachCallback, AfterEachCallback {

    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();
    private PrintStream original;

    @Override
    public void beforeEach(ExtensionContext context) {
        captured.reset();
        original = System.err;
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    }

    @Override
    public void afterEach(ExtensionContext context) {
        System.setErr(original);
        System.out.println("stderr: " + text());
    }

    public String text() {
        return captured.toString(StandardCharsets.UTF_8);
    }
}
