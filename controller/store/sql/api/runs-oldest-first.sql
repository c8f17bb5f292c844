-- A page of runs, oldest first, after a keyset position (started_at, run_id). Every filter is
-- optional (NULL); statements are planned with their values, so an unused filter costs nothing
-- and the page is read through the matching index in order: no sort, no OFFSET, no count.
SELECT run_id, pipeline_namespace, pipeline_name, trigger, generation, phase, reason, started_at, finished_at,
       (extract(epoch FROM started_at) * 1000000)::bigint::text AS started_us
  FROM flexcore_read.runs
 WHERE ($1::text IS NULL OR pipeline_namespace = $1)
   AND ($2::text IS NULL OR pipeline_name = $2)
   AND ($3::text[] IS NULL OR phase = ANY ($3))
   AND ($4::text[] IS NULL OR trigger = ANY ($4))
   AND ($5::timestamptz IS NULL OR started_at >= $5)
   AND ($6::timestamptz IS NULL OR started_at < $6)
   AND ($7::text[] IS NULL OR (pipeline_namespace, pipeline_name) IN (SELECT * FROM unnest($7::text[], $8::text[])))
   AND ($9::bigint IS NULL OR (started_at, run_id) > ('epoch'::timestamptz + $9 * interval '1 microsecond', $10::text))
 ORDER BY started_at, run_id
 LIMIT $11
