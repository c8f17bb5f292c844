-- A window of the global feed after a cursor (visibility-safe, as read-feed.sql), each event
-- with the pipeline its run belongs to and whether it passes the filters. Events that do not
-- match come back without data: the caller still advances its cursor past them, so a sparse
-- filter never rescans the same window.
-- Data and time come back as text: the API copies them into its answer without parsing them.
SELECT e.position, e.stream_id, e.stream_version, e.event_id, e.type, e.tx_id::text AS tx_id,
       to_char(e.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS recorded_at,
       r.pipeline_namespace, r.pipeline_name, m.matched,
       CASE WHEN m.matched THEN e.data::text END AS data
  FROM flexcore.events e
  LEFT JOIN flexcore_read.runs r ON r.run_id = e.run_id
 CROSS JOIN LATERAL (
   SELECT ($3::text IS NULL OR e.stream_id = $3)
      AND ($4::text[] IS NULL OR e.type = ANY ($4))
      AND ($5::text IS NULL OR r.pipeline_namespace = $5)
      AND ($6::text IS NULL OR r.pipeline_name = $6) AS matched
 ) m
 WHERE (e.tx_id, e.position) > ($1::xid8, $2::bigint)
   AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
 ORDER BY e.tx_id, e.position
 LIMIT $7
