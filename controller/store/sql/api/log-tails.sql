SELECT container, tail, truncated
  FROM flexcore_read.log_tails
 WHERE run_id = $1 AND step = $2 AND attempt = $3 AND ($4::text IS NULL OR container = $4)
 ORDER BY container
