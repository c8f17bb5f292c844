-- The newest event every reader can see (below the oldest transaction still running): where a
-- live stream without a cursor begins. Read backwards through events_feed_idx.
SELECT tx_id::text AS tx_id, position
  FROM flexcore.events
 WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())
 ORDER BY tx_id DESC, position DESC
 LIMIT 1
