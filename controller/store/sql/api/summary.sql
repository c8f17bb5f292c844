-- Run counts and duration buckets since a day, grouped by day or by pipeline, from the daily
-- summary rows (never the run history): one row of totals per (key, phase) with bucket 0, and one
-- row per (key, phase, bucket) with its count.
WITH r AS (
  SELECT CASE WHEN $3 = 'day' THEN day::text ELSE pipeline_namespace || '/' || pipeline_name END AS key,
         phase, runs, duration_ms_sum, duration_buckets
    FROM flexcore_read.run_summary
   WHERE day >= $1::date
     AND ($2::text IS NULL OR pipeline_namespace = $2)
)
SELECT key, phase, 0 AS bucket, sum(runs)::bigint AS n, sum(duration_ms_sum)::bigint AS ms
  FROM r
 GROUP BY key, phase
UNION ALL
SELECT key, phase, u.i::int AS bucket, sum(u.c)::bigint AS n, NULL
  FROM r CROSS JOIN LATERAL unnest(r.duration_buckets) WITH ORDINALITY AS u (c, i)
 GROUP BY key, phase, u.i
