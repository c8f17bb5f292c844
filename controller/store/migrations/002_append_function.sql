-- flexcore.append: one round trip that checks the fence, idempotency and the expected
-- version, then writes the events. Errors carry FlexCore SQLSTATEs:
--   FC001 stale fencing token, FC002 wrong expected version, FC003 partly duplicated batch.
-- p_expected: a version >= 0, or -1 "no stream", -2 "any", -3 "exists".
CREATE FUNCTION flexcore.append(
  p_stream text, p_expected bigint, p_events jsonb, p_fence text, p_token bigint
) RETURNS TABLE (event_position bigint, event_version bigint, duplicate boolean,
                 event_recorded_at timestamptz, event_tx_id xid8)
LANGUAGE plpgsql AS $$
DECLARE
  v_lock bigint := hashtextextended('flexcore.fence:' || p_fence, 0);
  v_token bigint;
  v_count int := jsonb_array_length(p_events);
  v_ids uuid[];
  v_existing int;
  v_version bigint;
BEGIN
  IF v_count = 0 THEN
    RAISE EXCEPTION 'append needs at least one event' USING ERRCODE = '22023';
  END IF;

  -- Fencing, without writing a row per append. Appends hold the fence's advisory lock
  -- shared until they commit; raising the fence takes it exclusively, so the raise waits
  -- for appends of older tokens in flight, and every later one queues behind the raise and
  -- then sees the newer token. Each statement below reads a fresh snapshot (READ COMMITTED).
  SELECT f.token INTO v_token FROM flexcore.fences f WHERE f.fence = p_fence;
  IF v_token IS NULL OR v_token < p_token THEN
    PERFORM pg_advisory_xact_lock(v_lock);
    INSERT INTO flexcore.fences AS f (fence, token) VALUES (p_fence, p_token)
      ON CONFLICT (fence) DO UPDATE SET token = EXCLUDED.token, updated_at = now() WHERE f.token < EXCLUDED.token;
  ELSIF v_token = p_token THEN
    PERFORM pg_advisory_xact_lock_shared(v_lock);
  END IF;
  SELECT f.token INTO v_token FROM flexcore.fences f WHERE f.fence = p_fence;
  IF v_token > p_token THEN
    RAISE EXCEPTION 'stale fencing token % for fence %: newest is %', p_token, p_fence, v_token
      USING ERRCODE = 'FC001', DETAIL = v_token::text;
  END IF;

  -- Idempotency: a batch whose first event is recorded is checked whole: all recorded means
  -- a no-op that reports them, some means FC003. A batch whose first event is new but a later
  -- one is not hits the unique event-id index; the caller retries once and reports FC003.
  IF EXISTS (SELECT 1 FROM flexcore.events e WHERE e.event_id = (p_events -> 0 ->> 'id')::uuid) THEN
    v_ids := ARRAY(SELECT (x ->> 'id')::uuid FROM jsonb_array_elements(p_events) x);
    SELECT count(*) INTO v_existing FROM flexcore.events e WHERE e.event_id = ANY (v_ids);
    IF v_existing < v_count THEN
      RAISE EXCEPTION '% of % events in this batch are already recorded', v_existing, v_count
        USING ERRCODE = 'FC003';
    END IF;
    RETURN QUERY SELECT e.position, e.stream_version, true, e.recorded_at, e.tx_id
      FROM flexcore.events e WHERE e.event_id = ANY (v_ids) ORDER BY e.position;
    RETURN;
  END IF;

  -- Claim the versions: the stream row's lock serializes appends to one stream until commit.
  INSERT INTO flexcore.streams AS s (stream_id, version) VALUES (p_stream, v_count - 1)
    ON CONFLICT (stream_id) DO UPDATE SET version = s.version + v_count, updated_at = now()
    RETURNING s.version - v_count INTO v_version;
  IF (p_expected = -1 AND v_version <> -1)
     OR (p_expected = -3 AND v_version = -1)
     OR (p_expected >= 0 AND v_version <> p_expected) THEN
    RAISE EXCEPTION 'stream % is at version %, expected %', p_stream, v_version, p_expected
      USING ERRCODE = 'FC002', DETAIL = v_version::text;
  END IF;

  RETURN QUERY
  INSERT INTO flexcore.events (stream_id, stream_version, event_id, type, data, metadata, fence, fencing_token)
  SELECT p_stream, v_version + x.ord, (x.e ->> 'id')::uuid, x.e ->> 'type', x.e -> 'data',
         coalesce(x.e -> 'metadata', '{}'::jsonb), p_fence, p_token
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x (e, ord)
  RETURNING position, stream_version, false, recorded_at, tx_id;

  PERFORM pg_notify('flexcore_events', p_stream);
END $$;
