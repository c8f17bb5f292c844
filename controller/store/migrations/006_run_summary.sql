-- Daily counts and duration histograms of finished runs, per pipeline and result: the status
-- API's summary reads these rows (days × pipelines), never the run history. Filled by the
-- RunFinished projection; backfilled here from the runs already finished.

-- Bucket of a run duration: 1 + the number of upper bounds (seconds) it reaches. The bounds are
-- DURATION_BUCKET_BOUNDS in controller/store/duration-buckets.ts (a unit test holds them equal).
-- In schema flexcore, not flexcore_read: replay --swap replaces that schema whole.
CREATE FUNCTION flexcore.duration_bucket(seconds double precision) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT 1 + width_bucket(seconds, ARRAY[1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400]::double precision[])
$$;

CREATE TABLE flexcore_read.run_summary (
  day                 date NOT NULL,
  pipeline_namespace  text NOT NULL,
  pipeline_name       text NOT NULL,
  phase               text NOT NULL,
  runs                bigint NOT NULL,
  duration_ms_sum     bigint NOT NULL,
  -- 17 counts: bucket i holds durations from bound i-1 (0 for the first) up to bound i.
  duration_buckets    bigint[] NOT NULL,
  last_position       bigint NOT NULL,
  PRIMARY KEY (day, pipeline_namespace, pipeline_name, phase)
);

WITH finished AS (
  SELECT (started_at AT TIME ZONE 'UTC')::date AS day, pipeline_namespace, pipeline_name, phase,
         (extract(epoch FROM finished_at - started_at) * 1000)::bigint AS ms, last_position
    FROM flexcore_read.runs
   WHERE finished_at IS NOT NULL
), grouped AS (
  SELECT day, pipeline_namespace, pipeline_name, phase, count(*) AS runs, sum(ms)::bigint AS ms,
         array_agg(flexcore.duration_bucket(ms / 1000.0)) AS buckets, max(last_position) AS last_position
    FROM finished
   GROUP BY day, pipeline_namespace, pipeline_name, phase
)
INSERT INTO flexcore_read.run_summary
SELECT g.day, g.pipeline_namespace, g.pipeline_name, g.phase, g.runs, g.ms,
       ARRAY(SELECT (SELECT count(*) FROM unnest(g.buckets) x WHERE x = b) FROM generate_series(1, 17) b ORDER BY b),
       g.last_position
  FROM grouped g;
