INSERT INTO step_attempts (run_id, step, attempt, phase, reason, finished_at, last_position)
VALUES ($1, $2, 0, 'Skipped', $3, $4, $5)
ON CONFLICT (run_id, step, attempt) DO NOTHING
