package io.sandflow.store;

import java.time.Instant;

/**
 * A node of the cluster as it last reported itself; times are the database's. {@code stoppedAt} is when it stopped
 * cleanly, null while it runs (or when it was killed: then only its heartbeat's age tells).
 */
public record NodeRecord(String nodeId, String host, Instant startedAt, Instant heartbeatAt, int runningJobs,
                         Instant stoppedAt) {
}
