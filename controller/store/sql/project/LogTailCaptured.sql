INSERT INTO log_tails AS l (run_id, step, attempt, container, tail, truncated, captured_at, last_position)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (run_id, step, attempt, container) DO UPDATE SET
  tail = EXCLUDED.tail, truncated = EXCLUDED.truncated, captured_at = EXCLUDED.captured_at,
  last_position = EXCLUDED.last_position
WHERE l.last_position < EXCLUDED.last_position
