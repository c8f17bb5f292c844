-- After a discovery the attempt goes on in its sync Pod; scheduled_at stays the discovery's.
INSERT INTO step_attempts AS a (run_id, step, attempt, pod, phase, scheduled_at, last_position)
VALUES ($1, $2, $3, $4, 'Scheduled', $5, $6)
ON CONFLICT (run_id, step, attempt) DO UPDATE SET
  pod = EXCLUDED.pod, phase = 'Scheduled', last_position = EXCLUDED.last_position
WHERE a.phase = 'Discovering' AND a.last_position < EXCLUDED.last_position
