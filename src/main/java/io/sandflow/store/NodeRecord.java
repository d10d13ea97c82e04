package io.sandflow.store;

import java.time.Instant;

/** A node of the cluster as it last reported itself; times are the database's. */
public record NodeRecord(String nodeId, String host, Instant startedAt, Instant heartbeatAt, int runningJobs) {
}
