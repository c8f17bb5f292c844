UPDATE runs SET phase = $2, reason = $3, finished_at = $4, last_position = $5
 WHERE run_id = $1 AND last_position < $5
