-- Small shared state: the circuit breaker's state and the running totals of spend and tokens.
-- The columns are state_key / state_value because KEY and VALUE are reserved words in H2 2.x.
CREATE TABLE IF NOT EXISTS sandflow_state (
    state_key   VARCHAR(200) PRIMARY KEY,
    state_value VARCHAR(65536),
    updated_at  TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL
);

-- Totals live here rather than as SUM over jobs: they survive retry-failed deleting rows, and read in O(1).
INSERT INTO sandflow_state (state_key, state_value)
    SELECT 'total.cost_usd', '0' WHERE NOT EXISTS (SELECT 1 FROM sandflow_state WHERE state_key = 'total.cost_usd');
INSERT INTO sandflow_state (state_key, state_value)
    SELECT 'total.input_tokens', '0' WHERE NOT EXISTS (SELECT 1 FROM sandflow_state WHERE state_key = 'total.input_tokens');
INSERT INTO sandflow_state (state_key, state_value)
    SELECT 'total.output_tokens', '0' WHERE NOT EXISTS (SELECT 1 FROM sandflow_state WHERE state_key = 'total.output_tokens');
