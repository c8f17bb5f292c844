-- The global feed after a cursor, in (transaction id, position) order, stopping below the
-- oldest transaction still in progress: an event that commits late has a transaction id at
-- or above that bound, so it is read on a later call instead of being skipped.
SELECT position, stream_id, stream_version, event_id, type, data, metadata, fence, fencing_token, recorded_at,
       tx_id::text AS tx_id
  FROM flexcore.events
 WHERE (tx_id, position) > ($1::xid8, $2::bigint)
   AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
 ORDER BY tx_id, position
 LIMIT $3
