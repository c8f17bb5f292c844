-- The event log: streams, events (append-only), fences. Everything in schema flexcore.
CREATE SCHEMA IF NOT EXISTS flexcore;

CREATE TABLE flexcore.streams (
  stream_id   text PRIMARY KEY,
  -- Version of the last event; -1 while the stream is being created.
  version     bigint NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE flexcore.events (
  position       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- No foreign key to streams: flexcore.append creates the stream row first, and a key
  -- check per event would lock that row once more.
  stream_id      text NOT NULL,
  stream_version bigint NOT NULL CHECK (stream_version >= 0),
  event_id       uuid NOT NULL UNIQUE,
  type           text NOT NULL CHECK (type <> ''),
  data           jsonb NOT NULL,
  metadata       jsonb NOT NULL DEFAULT '{}'::jsonb,
  fence          text NOT NULL,
  fencing_token  bigint NOT NULL,
  recorded_at    timestamptz NOT NULL DEFAULT now(),
  -- The writing transaction: readers of the global feed order by (tx_id, position) and stop
  -- below the oldest transaction still running, so a late commit is never skipped.
  tx_id          xid8 NOT NULL DEFAULT pg_current_xact_id(),
  -- Copied out of data for queries and indexes.
  run_id         text GENERATED ALWAYS AS (data ->> 'runId') STORED,
  UNIQUE (stream_id, stream_version)
);
CREATE INDEX events_feed_idx ON flexcore.events (tx_id, position);
CREATE INDEX events_type_idx ON flexcore.events (type, recorded_at);
CREATE INDEX events_run_idx ON flexcore.events (run_id) WHERE run_id IS NOT NULL;

-- Append-only, enforced by the database for every role including the owner.
CREATE FUNCTION flexcore.refuse_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'flexcore.events is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'FC004';
END $$;
CREATE TRIGGER events_append_only
  BEFORE UPDATE OR DELETE ON flexcore.events
  FOR EACH ROW EXECUTE FUNCTION flexcore.refuse_event_change();
CREATE TRIGGER events_no_truncate
  BEFORE TRUNCATE ON flexcore.events
  FOR EACH STATEMENT EXECUTE FUNCTION flexcore.refuse_event_change();

-- The newest fencing token seen per fence (a leader-election scope).
CREATE TABLE flexcore.fences (
  fence       text PRIMARY KEY,
  token       bigint NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
