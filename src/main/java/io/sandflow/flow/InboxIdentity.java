package io.sandflow.flow;

import io.sandflow.config.ConfigException;
import io.sandflow.result.AtomicFiles;
import io.sandflow.store.JobStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.UUID;

/**
 * Which inbox a store serves. The inbox keeps an id in a hidden file, which the nodes of a cluster see alike since
 * they share the folder (its path may differ between machines), and the store records the id of the first inbox it
 * served. A node whose inbox has another id would skip the other inbox's jobs as done, so it refuses to start.
 */
final class InboxIdentity {

    static final String FILE_NAME = ".sandflow-inbox-id";
    static final String STATE_KEY = "inbox.id";

    private static final Logger LOG = LoggerFactory.getLogger("sandflow");

    private InboxIdentity() {
    }

    /**
     * Records the inbox's id in the store, or checks it against the one recorded.
     *
     * @throws ConfigException when the store serves another inbox, naming both settings
     */
    static void check(JobStore store, Path inbox, String storeUrl) {
        Optional<String> id = inboxId(inbox);
        if (id.isEmpty()) {
            return;
        }
        Optional<String> recorded = store.getState(STATE_KEY).map(String::strip).filter(s -> !s.isEmpty());
        if (recorded.isEmpty()) {
            store.putState(STATE_KEY, id.get());
        } else if (!recorded.get().equals(id.get())) {
            throw new ConfigException("the job store at sandflow.store.url='" + storeUrl + "' serves another inbox"
                    + " (id " + recorded.get() + "), not sandflow.inbox=" + inbox + " (id " + id.get() + " in "
                    + FILE_NAME + "): give each inbox a store of its own, or let every node on this store share one"
                    + " inbox; if this is the inbox the store served, write " + recorded.get() + " into "
                    + inbox.resolve(FILE_NAME));
        }
    }

    /** The inbox's id, made when it has none; empty (and the check skipped) when it cannot be written. */
    static Optional<String> inboxId(Path inbox) {
        Path file = inbox.resolve(FILE_NAME);
        try {
            if (!Files.exists(file)) {
                // Made once: of two nodes starting together on a new shared inbox, the second reads the first's
                AtomicFiles.writeOnce(file, (UUID.randomUUID() + "\n").getBytes(StandardCharsets.UTF_8));
            }
            String id = Files.readString(file, StandardCharsets.UTF_8).strip();
            return id.isEmpty() ? Optional.empty() : Optional.of(id);
        } catch (IOException e) {
            String why = e instanceof java.nio.file.AccessDeniedException ? "permission denied" : e.toString();
            LOG.warn("cannot keep the inbox's id in {} ({}); the store cannot tell whether it serves this inbox",
                    file, why);
            return Optional.empty();
        }
    }
}
