-- When a pipeline last ran and last succeeded, over every recorded run (the freshness gauges'
-- starting point when a replica starts leading it).
SELECT max(started_at) AS last_run_at,
       max(finished_at) FILTER (WHERE phase = 'Succeeded') AS last_success_at
  FROM flexcore_read.runs
 WHERE pipeline_namespace = $1 AND pipeline_name = $2
