-- When a node stopped cleanly: it is not running from that moment, rather than once its heartbeat is a lease old.
ALTER TABLE sandflow_nodes ADD COLUMN IF NOT EXISTS stopped_at TIMESTAMP WITH TIME ZONE;
