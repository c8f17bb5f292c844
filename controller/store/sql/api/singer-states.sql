SELECT state_id, state, state_run_id, state_at, partial_state, partial_run_id, partial_at, changed_by
  FROM flexcore_read.singer_state
 WHERE state_id = ANY ($1::text[])
