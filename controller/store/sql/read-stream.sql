SELECT position, stream_id, stream_version, event_id, type, data, metadata, fence, fencing_token, recorded_at,
       tx_id::text AS tx_id
  FROM flexcore.events
 WHERE stream_id = $1 AND stream_version >= $2
 ORDER BY stream_version
 LIMIT $3
