-- Which input each result name belongs to: the first input name that took it. Of two inputs that would share one
-- result (a.json and a.JSON, or a.json and a.txt named by {base}), the other learns it before its agent runs.
CREATE TABLE IF NOT EXISTS sandflow_outputs (
    output_name VARCHAR(1024) PRIMARY KEY,
    name        VARCHAR(1024) NOT NULL
);

-- Results made before this table existed belong to the input that made them.
INSERT INTO sandflow_outputs (output_name, name)
    SELECT j.output_name, MIN(j.name) FROM sandflow_jobs j
    WHERE j.state = 'DONE' AND j.output_name IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM sandflow_outputs o WHERE o.output_name = j.output_name)
    GROUP BY j.output_name;

-- A job asked to run again although its content did not change (sandflow rerun): its result replaces the one in
-- the outbox. Cleared when the job ends.
ALTER TABLE sandflow_jobs ADD COLUMN IF NOT EXISTS rerun BOOLEAN DEFAULT FALSE NOT NULL;
