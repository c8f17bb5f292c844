-- Indexes for the status API's keyset pages on (started_at, run_id): every list of runs is
-- read through one of them in either direction, so a deep page costs what the first does.
DROP INDEX flexcore_read.runs_pipeline_idx;
DROP INDEX flexcore_read.runs_phase_idx;
CREATE INDEX runs_started_idx ON flexcore_read.runs (started_at, run_id);
CREATE INDEX runs_namespace_idx ON flexcore_read.runs (pipeline_namespace, started_at, run_id);
CREATE INDEX runs_pipeline_idx ON flexcore_read.runs (pipeline_namespace, pipeline_name, started_at, run_id);
CREATE INDEX runs_phase_idx ON flexcore_read.runs (phase, started_at, run_id);
