SELECT run_id, pipeline_namespace, pipeline_name, trigger, generation, phase, reason, started_at, finished_at
  FROM flexcore_read.runs
 WHERE run_id = $1
