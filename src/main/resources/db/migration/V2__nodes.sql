-- The nodes that run jobs, for a cluster status view; a node writes its row on each heartbeat.
CREATE TABLE IF NOT EXISTS sandflow_nodes (
    node_id      VARCHAR(200) PRIMARY KEY,
    host         VARCHAR(255),
    started_at   TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
    heartbeat_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
    running_jobs INTEGER DEFAULT 0 NOT NULL
);
