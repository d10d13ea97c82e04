package io.sandflow.sandbox;

/**
 * A sandbox could not be listed, created, given its policy or run; the message is one sentence naming the sandbox,
 * the command and the cause, fit for a log line or a start-up error.
 */
public class SandboxException extends RuntimeException {

    public SandboxException(String sentence) {
        super(sentence);
    }

    public SandboxException(String sentence, Throwable cause) {
        super(sentence, cause);
    }
}
