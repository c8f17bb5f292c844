-- A discovery opens its attempt: the row shows the discovery Pod until the sync Pod replaces it.
INSERT INTO step_attempts (run_id, step, attempt, pod, phase, scheduled_at, last_position)
VALUES ($1, $2, $3, $4, 'Discovering', $5, $6)
ON CONFLICT (run_id, step, attempt) DO NOTHING
