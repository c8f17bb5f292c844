-- A cleared bookmark: the row stays (its position guards against older events) with no state,
-- so the next run starts from nothing.
INSERT INTO singer_state AS s (state_id, state, state_run_id, state_at, partial_state, partial_run_id, partial_at, changed_by, last_position)
VALUES ($1, NULL, NULL, $3, NULL, NULL, NULL, $2, $4)
ON CONFLICT (state_id) DO UPDATE SET
  state = NULL, state_run_id = NULL, state_at = EXCLUDED.state_at,
  partial_state = NULL, partial_run_id = NULL, partial_at = NULL,
  changed_by = EXCLUDED.changed_by, last_position = EXCLUDED.last_position
WHERE s.last_position < EXCLUDED.last_position
