-- Complete state replaces the state and clears older partial state; partial state is kept
-- beside it. Complete state a run captured is no person's change (changed_by cleared).
-- Guarded by position, so live appends and replay converge on the same row.
INSERT INTO singer_state AS s (state_id, state, state_run_id, state_at, partial_state, partial_run_id, partial_at, last_position)
VALUES ($1,
        CASE WHEN $4 THEN NULL ELSE $2::jsonb END, CASE WHEN $4 THEN NULL ELSE $3 END, CASE WHEN $4 THEN NULL ELSE $5::timestamptz END,
        CASE WHEN $4 THEN $2::jsonb END, CASE WHEN $4 THEN $3 END, CASE WHEN $4 THEN $5::timestamptz END,
        $6)
ON CONFLICT (state_id) DO UPDATE SET
  state          = CASE WHEN $4 THEN s.state ELSE EXCLUDED.state END,
  state_run_id   = CASE WHEN $4 THEN s.state_run_id ELSE EXCLUDED.state_run_id END,
  state_at       = CASE WHEN $4 THEN s.state_at ELSE EXCLUDED.state_at END,
  partial_state  = EXCLUDED.partial_state,
  partial_run_id = EXCLUDED.partial_run_id,
  partial_at     = EXCLUDED.partial_at,
  changed_by     = CASE WHEN $4 THEN s.changed_by END,
  last_position  = EXCLUDED.last_position
WHERE s.last_position < EXCLUDED.last_position
