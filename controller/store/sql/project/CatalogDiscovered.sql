-- The newest discovered catalog per cache key (image, command and non-secret config).
INSERT INTO discovered_catalogs AS c (catalog_key, digest, plugin, image, streams, bytes, discovered_at, last_position)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (catalog_key) DO UPDATE SET
  digest = EXCLUDED.digest, plugin = EXCLUDED.plugin, image = EXCLUDED.image, streams = EXCLUDED.streams,
  bytes = EXCLUDED.bytes, discovered_at = EXCLUDED.discovered_at, last_position = EXCLUDED.last_position
WHERE c.last_position < EXCLUDED.last_position
