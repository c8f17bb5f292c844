SELECT event_position, event_version, duplicate, event_recorded_at, event_tx_id::text AS event_tx_id
  FROM flexcore.append($1, $2, $3::jsonb, $4, $5)
