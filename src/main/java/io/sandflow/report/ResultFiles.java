package io.sandflow.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Reads what Sandflow wrote in the outbox and in failed/ back, for the views that show it: only regular files
 * directly in that folder, never through a link, and no larger than a result can be.
 */
public final class ResultFiles {

    /** Larger than any result or report Sandflow writes (the agent's output is capped at 16 MiB by default). */
    static final long MAX_BYTES = 64L * 1024 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path folder;

    public ResultFiles(Path folder) {
        this.folder = folder.toAbsolutePath().normalize();
    }

    /** The file of that name in the folder, when the name is a plain file name. */
    public Optional<Path> file(String name) {
        if (name == null || name.isEmpty() || name.contains("/") || name.contains("\0") || name.equals(".")
                || name.equals("..")) {
            return Optional.empty();
        }
        Path file = folder.resolve(name);
        if (!file.getParent().equals(folder) || !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        return Optional.of(file);
    }

    /** The JSON in the file of that name; empty when there is none, or it is not JSON. */
    public Optional<JsonNode> read(String name) {
        Optional<Path> file = file(name);
        if (file.isEmpty()) {
            return Optional.empty();
        }
        try {
            if (Files.size(file.get()) > MAX_BYTES) {
                return Optional.empty();
            }
            try (InputStream in = Files.newInputStream(file.get(), LinkOption.NOFOLLOW_LINKS)) {
                JsonNode node = JSON.readTree(in);
                return node == null || node.isMissingNode() ? Optional.empty() : Optional.of(node);
            }
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
