UPDATE step_attempts SET phase = 'Running', started_at = $4, last_position = $5
 WHERE run_id = $1 AND step = $2 AND attempt = $3 AND last_position < $5
