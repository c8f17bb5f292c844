-- Run counts, durations and duration buckets since a day, grouped by day or by pipeline and
-- result, from the daily summary rows (never the run history). The buckets are summed element
-- by element in the same pass (unnesting them would multiply the rows by 17).
SELECT CASE WHEN $3 = 'day' THEN day::text ELSE pipeline_namespace || '/' || pipeline_name END AS key,
       phase, sum(runs)::bigint AS runs, sum(duration_ms_sum)::bigint AS ms,
       ARRAY[sum(duration_buckets[1]),
             sum(duration_buckets[2]),
             sum(duration_buckets[3]),
             sum(duration_buckets[4]),
             sum(duration_buckets[5]),
             sum(duration_buckets[6]),
             sum(duration_buckets[7]),
             sum(duration_buckets[8]),
             sum(duration_buckets[9]),
             sum(duration_buckets[10]),
             sum(duration_buckets[11]),
             sum(duration_buckets[12]),
             sum(duration_buckets[13]),
             sum(duration_buckets[14]),
             sum(duration_buckets[15]),
             sum(duration_buckets[16]),
             sum(duration_buckets[17])]::bigint[] AS buckets
  FROM flexcore_read.run_summary
 WHERE day >= $1::date
   AND ($2::text IS NULL OR pipeline_namespace = $2)
 GROUP BY 1, phase
