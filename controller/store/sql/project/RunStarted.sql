INSERT INTO runs (run_id, pipeline_namespace, pipeline_name, trigger, generation, phase, started_at, last_position)
VALUES ($1, $2, $3, $4, $5, 'Running', $6, $7)
ON CONFLICT (run_id) DO NOTHING
