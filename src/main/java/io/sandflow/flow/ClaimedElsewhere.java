package io.sandflow.flow;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Inbox files another node is running. In a cluster every node lists the same inbox in the same order; without
 * this, each poll would hand this node's workers the files its peers already hold, only for each claim to come
 * back busy. A file is skipped until the other node's lease would have expired, so a node that died is noticed
 * at the same moment the store would let its job be taken over.
 */
final class ClaimedElsewhere {

    private final Map<String, Long> until = new ConcurrentHashMap<>();
    private final long leaseMillis;

    ClaimedElsewhere(long leaseMillis) {
        this.leaseMillis = leaseMillis;
    }

    void remember(String name) {
        until.put(name, System.currentTimeMillis() + leaseMillis);
    }

    boolean skip(String name) {
        Long end = until.get(name);
        return end != null && end > System.currentTimeMillis();
    }

    /** Drops what has expired; called once per poll, so the map holds at most the peers' jobs of one lease. */
    void purge() {
        long now = System.currentTimeMillis();
        until.values().removeIf(end -> end <= now);
    }

    int size() {
        return until.size();
    }
}
