package io.sandflow.sandbox;

import java.io.IOException;

/**
 * A file in a workspace that Sandflow will not read or write through, because following it could carry data across
 * the sandbox. The message completes a sentence about the file ("is a symbolic link") and never names a link's target.
 */
public final class RefusedFileException extends IOException {

    public RefusedFileException(String problem) {
        super(problem);
    }

    /** The problem, to follow the file's description: "the agent's output file " + problem(). */
    public String problem() {
        return getMessage();
    }
}
