-- Read models built from the events, in schema flexcore_read. They are disposable: the
-- replay command rebuilds them from flexcore.events into fresh tables of the same shape.
CREATE SCHEMA IF NOT EXISTS flexcore_read;

CREATE TABLE flexcore_read.runs (
  run_id              text PRIMARY KEY,
  pipeline_namespace  text NOT NULL,
  pipeline_name       text NOT NULL,
  trigger             text NOT NULL,
  generation          bigint,
  phase               text NOT NULL,
  reason              text,
  started_at          timestamptz NOT NULL,
  finished_at         timestamptz,
  last_position       bigint NOT NULL
);
CREATE INDEX runs_pipeline_idx ON flexcore_read.runs (pipeline_namespace, pipeline_name, started_at DESC);
CREATE INDEX runs_phase_idx ON flexcore_read.runs (phase, started_at DESC);

-- One row per step attempt; a skipped step has attempt 0.
CREATE TABLE flexcore_read.step_attempts (
  run_id        text NOT NULL,
  step          text NOT NULL,
  attempt       int NOT NULL,
  pod           text,
  phase         text NOT NULL,
  exit_code     int,
  reason        text,
  scheduled_at  timestamptz,
  started_at    timestamptz,
  finished_at   timestamptz,
  duration_ms   bigint,
  last_position bigint NOT NULL,
  PRIMARY KEY (run_id, step, attempt)
);
CREATE INDEX step_attempts_phase_idx ON flexcore_read.step_attempts (phase, finished_at DESC);

-- Singer state per state id: the state of the last succeeded step, and the newer partial
-- state a failed run left behind (a target only emits STATE for what it has committed).
CREATE TABLE flexcore_read.singer_state (
  state_id          text PRIMARY KEY,
  state             jsonb,
  state_run_id      text,
  state_at          timestamptz,
  partial_state     jsonb,
  partial_run_id    text,
  partial_at        timestamptz,
  last_position     bigint NOT NULL
);

-- The tail of each finished attempt's log, bounded.
CREATE TABLE flexcore_read.log_tails (
  run_id        text NOT NULL,
  step          text NOT NULL,
  attempt       int NOT NULL,
  container     text NOT NULL,
  tail          text NOT NULL CHECK (octet_length(tail) <= 65536),
  truncated     boolean NOT NULL,
  captured_at   timestamptz NOT NULL,
  last_position bigint NOT NULL,
  PRIMARY KEY (run_id, step, attempt, container)
);
