-- flexcore.append: one round trip that checks the fence, the expected version and
-- idempotency, then writes the events. Errors carry FlexCore SQLSTATEs:
--   FC001 stale fencing token, FC002 wrong expected version, FC003 partly duplicated batch.
-- p_expected: a version >= 0, or -1 "no stream", -2 "any", -3 "exists".
CREATE FUNCTION flexcore.append(
  p_stream text, p_expected bigint, p_events jsonb, p_fence text, p_token bigint
) RETURNS TABLE (event_position bigint, event_version bigint, duplicate boolean, event_recorded_at timestamptz, event_tx_id xid8)
LANGUAGE plpgsql AS $$
DECLARE
  v_fence_token bigint;
  v_version bigint;
  v_count int := jsonb_array_length(p_events);
  v_existing int;
BEGIN
  IF v_count = 0 THEN
    RAISE EXCEPTION 'append needs at least one event' USING ERRCODE = '22023';
  END IF;

  -- Fencing. A newer token raises the fence (exclusive row lock, only at a leader change);
  -- every append then holds a share lock on the fence row until it commits, so the raise
  -- waits for appends of older tokens in flight, and none of them can commit after it.
  UPDATE flexcore.fences SET token = p_token, updated_at = now()
   WHERE fence = p_fence AND token < p_token;
  INSERT INTO flexcore.fences (fence, token) VALUES (p_fence, p_token) ON CONFLICT (fence) DO NOTHING;
  SELECT token INTO v_fence_token FROM flexcore.fences WHERE fence = p_fence FOR SHARE;
  IF v_fence_token > p_token THEN
    RAISE EXCEPTION 'stale fencing token % for fence %: newest is %', p_token, p_fence, v_fence_token
      USING ERRCODE = 'FC001', DETAIL = v_fence_token::text;
  END IF;

  -- The stream row serializes appends to one stream.
  INSERT INTO flexcore.streams (stream_id, version) VALUES (p_stream, -1) ON CONFLICT (stream_id) DO NOTHING;
  SELECT s.version INTO v_version FROM flexcore.streams s WHERE s.stream_id = p_stream FOR UPDATE;

  -- Idempotency: a batch whose event ids are all recorded is a no-op that reports them.
  SELECT count(*) INTO v_existing FROM flexcore.events e
   WHERE e.event_id IN (SELECT (x ->> 'id')::uuid FROM jsonb_array_elements(p_events) x);
  IF v_existing = v_count THEN
    RETURN QUERY SELECT e.position, e.stream_version, true, e.recorded_at, e.tx_id FROM flexcore.events e
      WHERE e.event_id IN (SELECT (x ->> 'id')::uuid FROM jsonb_array_elements(p_events) x)
      ORDER BY e.position;
    RETURN;
  ELSIF v_existing > 0 THEN
    RAISE EXCEPTION '% of % events in this batch are already recorded', v_existing, v_count
      USING ERRCODE = 'FC003';
  END IF;

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

  UPDATE flexcore.streams SET version = v_version + v_count, updated_at = now() WHERE stream_id = p_stream;
  PERFORM pg_notify('flexcore_events', p_stream);
END $$;
