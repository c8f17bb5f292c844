UPDATE step_attempts
   SET phase = $4, exit_code = $5, reason = $6, finished_at = $7, last_position = $8,
       duration_ms = (extract(epoch FROM ($7::timestamptz - coalesce(started_at, scheduled_at))) * 1000)::bigint
 WHERE run_id = $1 AND step = $2 AND attempt = $3 AND last_position < $8
