-- A bookmark set by hand replaces both the complete and the partial state: the next run starts
-- from exactly it. Guarded by position like every projection.
INSERT INTO singer_state AS s (state_id, state, state_run_id, state_at, partial_state, partial_run_id, partial_at, changed_by, last_position)
VALUES ($1, $2::jsonb, NULL, $4, NULL, NULL, NULL, $3, $5)
ON CONFLICT (state_id) DO UPDATE SET
  state = EXCLUDED.state, state_run_id = NULL, state_at = EXCLUDED.state_at,
  partial_state = NULL, partial_run_id = NULL, partial_at = NULL,
  changed_by = EXCLUDED.changed_by, last_position = EXCLUDED.last_position
WHERE s.last_position < EXCLUDED.last_position
