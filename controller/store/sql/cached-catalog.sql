-- The catalog last discovered under a cache key ($1), with its body.
SELECT c.digest, c.discovered_at, b.body
  FROM flexcore_read.discovered_catalogs c
  JOIN flexcore.catalog_blobs b ON b.digest = c.digest
 WHERE c.catalog_key = $1
