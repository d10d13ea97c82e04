package io.sandflow.flow;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Sandflow could not write one of its own folders (outbox, failed, archive, inbox): a fault of the surroundings,
 * never of the input, so the job waits in the inbox instead of failing.
 */
public final class FolderFault extends RuntimeException {

    FolderFault(String setting, Path dir, IOException cause) {
        super("cannot write to " + dir + " (" + setting + ": " + describe(cause) + ")", cause);
    }

    private static String describe(IOException e) {
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        String reason = e instanceof java.nio.file.FileSystemException fse ? fse.getReason() : null;
        return reason != null ? reason : e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    /** An IO step on one of Sandflow's folders. */
    @FunctionalInterface
    interface FolderStep<T> {
        T run() throws IOException;
    }

    /** Runs the step; an IOException it throws becomes a FolderFault naming the folder's setting. */
    static <T> T guard(String setting, Path dir, FolderStep<T> step) {
        try {
            return step.run();
        } catch (IOException e) {
            throw new FolderFault(setting, dir, e);
        }
    }
}
