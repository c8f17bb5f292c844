-- Projections run inside PostgreSQL: an append that updates the read models is one statement,
-- one round trip, instead of BEGIN, the append, a statement per event and COMMIT. Replay calls
-- the same flexcore.project, so live appends and replay still run exactly the same code.
-- (Before this migration each projection was a statement the controller sent; same SQL.)

-- flexcore.project: applies one event to the read-model tables found on the search_path
-- (flexcore_read live, a replay schema on replay). Updates are guarded by event position, so the
-- result does not depend on the order in which concurrent transactions commit. Event data was
-- checked by the appender (controller/store/event-types.ts). Types without a projection: no-op.
-- A change to a projection is a new migration that replaces this function.
CREATE FUNCTION flexcore.project(p_position bigint, p_type text, d jsonb, p_recorded_at timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_at timestamptz := coalesce((d ->> 'at')::timestamptz, p_recorded_at);
  v_partial boolean;
BEGIN
  CASE p_type
  WHEN 'RunStarted' THEN
    INSERT INTO runs (run_id, pipeline_namespace, pipeline_name, trigger, generation, phase, started_at, last_position)
    VALUES (d ->> 'runId', d -> 'pipeline' ->> 'namespace', d -> 'pipeline' ->> 'name', d ->> 'trigger',
            (d ->> 'generation')::bigint, 'Running', v_at, p_position)
    ON CONFLICT (run_id) DO NOTHING;

  WHEN 'RunFinished' THEN
    -- The run's result (a finished run stays finished: a later RunFinished changes nothing), and
    -- its count and duration in the daily summary.
    WITH finished AS (
      UPDATE runs SET phase = d ->> 'phase', reason = d ->> 'reason', finished_at = v_at, last_position = p_position
       WHERE run_id = d ->> 'runId' AND last_position < p_position AND phase = 'Running'
      RETURNING started_at, finished_at, pipeline_namespace, pipeline_name, phase
    )
    INSERT INTO run_summary AS s (day, pipeline_namespace, pipeline_name, phase, runs, duration_ms_sum, duration_buckets, last_position)
    SELECT (f.started_at AT TIME ZONE 'UTC')::date, f.pipeline_namespace, f.pipeline_name, f.phase, 1, m.ms,
           ARRAY(SELECT (i = flexcore.duration_bucket(m.ms / 1000.0))::int::bigint FROM generate_series(1, 17) i ORDER BY i),
           p_position
      FROM finished f
     CROSS JOIN LATERAL (SELECT (extract(epoch FROM f.finished_at - f.started_at) * 1000)::bigint AS ms) m
    ON CONFLICT (day, pipeline_namespace, pipeline_name, phase) DO UPDATE
       SET runs = s.runs + 1,
           duration_ms_sum = s.duration_ms_sum + EXCLUDED.duration_ms_sum,
           duration_buckets[flexcore.duration_bucket(EXCLUDED.duration_ms_sum / 1000.0)] =
             s.duration_buckets[flexcore.duration_bucket(EXCLUDED.duration_ms_sum / 1000.0)] + 1,
           last_position = greatest(s.last_position, EXCLUDED.last_position);

  WHEN 'CatalogDiscoveryScheduled' THEN
    -- A discovery opens its attempt: the row shows the discovery Pod until the sync Pod replaces it.
    INSERT INTO step_attempts (run_id, step, attempt, pod, phase, scheduled_at, last_position)
    VALUES (d ->> 'runId', d ->> 'step', (d ->> 'attempt')::int, d ->> 'pod', 'Discovering', v_at, p_position)
    ON CONFLICT (run_id, step, attempt) DO NOTHING;

  WHEN 'StepAttemptScheduled' THEN
    -- After a discovery the attempt goes on in its sync Pod; scheduled_at stays the discovery's.
    INSERT INTO step_attempts AS a (run_id, step, attempt, pod, phase, scheduled_at, last_position)
    VALUES (d ->> 'runId', d ->> 'step', (d ->> 'attempt')::int, d ->> 'pod', 'Scheduled', v_at, p_position)
    ON CONFLICT (run_id, step, attempt) DO UPDATE SET
      pod = EXCLUDED.pod, phase = 'Scheduled', last_position = EXCLUDED.last_position
    WHERE a.phase = 'Discovering' AND a.last_position < EXCLUDED.last_position;

  WHEN 'StepAttemptStarted' THEN
    UPDATE step_attempts SET phase = 'Running', started_at = v_at, last_position = p_position
     WHERE run_id = d ->> 'runId' AND step = d ->> 'step' AND attempt = (d ->> 'attempt')::int
       AND last_position < p_position;

  WHEN 'StepAttemptFinished' THEN
    UPDATE step_attempts
       SET phase = d ->> 'phase', exit_code = (d ->> 'exitCode')::int, reason = d ->> 'reason',
           finished_at = v_at, last_position = p_position,
           duration_ms = (extract(epoch FROM (v_at - coalesce(started_at, scheduled_at))) * 1000)::bigint
     WHERE run_id = d ->> 'runId' AND step = d ->> 'step' AND attempt = (d ->> 'attempt')::int
       AND last_position < p_position;

  WHEN 'StepSkipped' THEN
    INSERT INTO step_attempts (run_id, step, attempt, phase, reason, finished_at, last_position)
    VALUES (d ->> 'runId', d ->> 'step', 0, 'Skipped', d ->> 'reason', v_at, p_position)
    ON CONFLICT (run_id, step, attempt) DO NOTHING;

  WHEN 'CatalogDiscovered' THEN
    -- The newest discovered catalog per cache key (image, command and non-secret config).
    INSERT INTO discovered_catalogs AS c (catalog_key, digest, plugin, image, streams, bytes, discovered_at, last_position)
    VALUES (d ->> 'catalogKey', d ->> 'digest', d ->> 'plugin', d ->> 'image', (d ->> 'streams')::int,
            (d ->> 'bytes')::int, v_at, p_position)
    ON CONFLICT (catalog_key) DO UPDATE SET
      digest = EXCLUDED.digest, plugin = EXCLUDED.plugin, image = EXCLUDED.image, streams = EXCLUDED.streams,
      bytes = EXCLUDED.bytes, discovered_at = EXCLUDED.discovered_at, last_position = EXCLUDED.last_position
    WHERE c.last_position < EXCLUDED.last_position;

  WHEN 'SingerStateCaptured' THEN
    -- Complete state replaces the state and clears older partial state; partial state is kept
    -- beside it. Complete state a run captured is no person's change (changed_by cleared).
    v_partial := (d ->> 'partial')::boolean;
    INSERT INTO singer_state AS s (state_id, state, state_run_id, state_at, partial_state, partial_run_id, partial_at, last_position)
    VALUES (d ->> 'stateId',
            CASE WHEN v_partial THEN NULL ELSE d -> 'state' END, CASE WHEN v_partial THEN NULL ELSE d ->> 'runId' END,
            CASE WHEN v_partial THEN NULL ELSE v_at END,
            CASE WHEN v_partial THEN d -> 'state' END, CASE WHEN v_partial THEN d ->> 'runId' END,
            CASE WHEN v_partial THEN v_at END,
            p_position)
    ON CONFLICT (state_id) DO UPDATE SET
      state          = CASE WHEN v_partial THEN s.state ELSE EXCLUDED.state END,
      state_run_id   = CASE WHEN v_partial THEN s.state_run_id ELSE EXCLUDED.state_run_id END,
      state_at       = CASE WHEN v_partial THEN s.state_at ELSE EXCLUDED.state_at END,
      partial_state  = EXCLUDED.partial_state,
      partial_run_id = EXCLUDED.partial_run_id,
      partial_at     = EXCLUDED.partial_at,
      changed_by     = CASE WHEN v_partial THEN s.changed_by END,
      last_position  = EXCLUDED.last_position
    WHERE s.last_position < EXCLUDED.last_position;

  WHEN 'SingerStateSet' THEN
    -- A bookmark set by hand replaces both the complete and the partial state: the next run
    -- starts from exactly it.
    INSERT INTO singer_state AS s (state_id, state, state_run_id, state_at, partial_state, partial_run_id, partial_at, changed_by, last_position)
    VALUES (d ->> 'stateId', d -> 'state', NULL, v_at, NULL, NULL, NULL, d ->> 'requestedBy', p_position)
    ON CONFLICT (state_id) DO UPDATE SET
      state = EXCLUDED.state, state_run_id = NULL, state_at = EXCLUDED.state_at,
      partial_state = NULL, partial_run_id = NULL, partial_at = NULL,
      changed_by = EXCLUDED.changed_by, last_position = EXCLUDED.last_position
    WHERE s.last_position < EXCLUDED.last_position;

  WHEN 'SingerStateCleared' THEN
    -- A cleared bookmark: the row stays (its position guards against older events) with no
    -- state, so the next run starts from nothing.
    INSERT INTO singer_state AS s (state_id, state, state_run_id, state_at, partial_state, partial_run_id, partial_at, changed_by, last_position)
    VALUES (d ->> 'stateId', NULL, NULL, v_at, NULL, NULL, NULL, d ->> 'requestedBy', p_position)
    ON CONFLICT (state_id) DO UPDATE SET
      state = NULL, state_run_id = NULL, state_at = EXCLUDED.state_at,
      partial_state = NULL, partial_run_id = NULL, partial_at = NULL,
      changed_by = EXCLUDED.changed_by, last_position = EXCLUDED.last_position
    WHERE s.last_position < EXCLUDED.last_position;

  WHEN 'LogTailCaptured' THEN
    INSERT INTO log_tails AS l (run_id, step, attempt, container, tail, truncated, captured_at, last_position)
    VALUES (d ->> 'runId', d ->> 'step', (d ->> 'attempt')::int, d ->> 'container', d ->> 'tail',
            (d ->> 'truncated')::boolean, v_at, p_position)
    ON CONFLICT (run_id, step, attempt, container) DO UPDATE SET
      tail = EXCLUDED.tail, truncated = EXCLUDED.truncated, captured_at = EXCLUDED.captured_at,
      last_position = EXCLUDED.last_position
    WHERE l.last_position < EXCLUDED.last_position;

  ELSE
    NULL; -- stored and read back, not projected
  END CASE;
END $$;

-- flexcore.append_and_project: flexcore.append, then the live projections of the new events, in
-- the caller's transaction (a lone statement is its own). A duplicate batch projects nothing.
CREATE FUNCTION flexcore.append_and_project(
  p_stream text, p_expected bigint, p_events jsonb, p_fence text, p_token bigint
) RETURNS TABLE (event_position bigint, event_version bigint, duplicate boolean,
                 event_recorded_at timestamptz, event_tx_id xid8)
LANGUAGE plpgsql SET search_path = flexcore_read AS $$
DECLARE
  r record;
  i int := 0;
BEGIN
  FOR r IN SELECT a.* FROM flexcore.append(p_stream, p_expected, p_events, p_fence, p_token) a LOOP
    IF NOT r.duplicate THEN
      PERFORM flexcore.project(r.event_position, p_events -> i ->> 'type', p_events -> i -> 'data', r.event_recorded_at);
    END IF;
    i := i + 1;
    event_position := r.event_position;
    event_version := r.event_version;
    duplicate := r.duplicate;
    event_recorded_at := r.event_recorded_at;
    event_tx_id := r.event_tx_id;
    RETURN NEXT;
  END LOOP;
END $$;

-- flexcore.project_batch: replay's step. Projects the events after p_after, at most p_limit of
-- them, in position order, into the tables on the search_path; says how many and where it ended.
CREATE FUNCTION flexcore.project_batch(p_after bigint, p_limit int, OUT projected int, OUT last_position bigint)
LANGUAGE plpgsql AS $$
DECLARE
  e record;
BEGIN
  projected := 0;
  last_position := p_after;
  FOR e IN SELECT x.position, x.type, x.data, x.recorded_at FROM flexcore.events x
            WHERE x.position > p_after ORDER BY x.position LIMIT p_limit LOOP
    PERFORM flexcore.project(e.position, e.type, e.data, e.recorded_at);
    projected := projected + 1;
    last_position := e.position;
  END LOOP;
END $$;
