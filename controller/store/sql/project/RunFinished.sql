-- The run's result (a finished run stays finished: a later RunFinished changes nothing), and its
-- count and duration in the daily summary.
WITH finished AS (
  UPDATE runs SET phase = $2, reason = $3, finished_at = $4, last_position = $5
   WHERE run_id = $1 AND last_position < $5 AND phase = 'Running'
  RETURNING started_at, finished_at, pipeline_namespace, pipeline_name, phase
)
INSERT INTO run_summary AS s (day, pipeline_namespace, pipeline_name, phase, runs, duration_ms_sum, duration_buckets, last_position)
SELECT (f.started_at AT TIME ZONE 'UTC')::date, f.pipeline_namespace, f.pipeline_name, f.phase, 1, d.ms,
       ARRAY(SELECT (i = flexcore.duration_bucket(d.ms / 1000.0))::int::bigint FROM generate_series(1, 17) i ORDER BY i),
       $5
  FROM finished f
 CROSS JOIN LATERAL (SELECT (extract(epoch FROM f.finished_at - f.started_at) * 1000)::bigint AS ms) d
ON CONFLICT (day, pipeline_namespace, pipeline_name, phase) DO UPDATE
   SET runs = s.runs + 1,
       duration_ms_sum = s.duration_ms_sum + EXCLUDED.duration_ms_sum,
       duration_buckets[flexcore.duration_bucket(EXCLUDED.duration_ms_sum / 1000.0)] =
         s.duration_buckets[flexcore.duration_bucket(EXCLUDED.duration_ms_sum / 1000.0)] + 1,
       last_position = greatest(s.last_position, EXCLUDED.last_position)
