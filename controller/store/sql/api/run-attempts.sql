-- Every attempt of a run, with the logs stored for it (sizes only).
SELECT a.step, a.attempt, a.pod, a.phase, a.exit_code, a.reason, a.scheduled_at, a.started_at, a.finished_at,
       a.duration_ms,
       coalesce((SELECT json_agg(json_build_object('container', l.container, 'bytes', octet_length(l.tail),
                                                   'truncated', l.truncated) ORDER BY l.container)
                   FROM flexcore_read.log_tails l
                  WHERE l.run_id = a.run_id AND l.step = a.step AND l.attempt = a.attempt), '[]'::json) AS logs
  FROM flexcore_read.step_attempts a
 WHERE a.run_id = $1
 ORDER BY a.step, a.attempt
