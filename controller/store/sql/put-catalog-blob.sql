-- Stores a catalog body under its digest; the same digest is the same text, so a repeat is a no-op.
INSERT INTO flexcore.catalog_blobs (digest, body, bytes) VALUES ($1, $2, octet_length($2))
ON CONFLICT (digest) DO NOTHING
