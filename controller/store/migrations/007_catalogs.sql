-- Singer catalogs. Bodies are content-addressed and immutable, in schema flexcore beside the
-- events that name them by digest (a discovered catalog, the final catalog an attempt used);
-- a catalog of megabytes stays out of the event feed. Which catalog a cache key holds is a
-- projection of CatalogDiscovered events, rebuilt by replay like the others.
CREATE TABLE flexcore.catalog_blobs (
  digest      text PRIMARY KEY CHECK (digest ~ '^[0-9a-f]{64}$'),
  body        text NOT NULL,
  bytes       int NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE flexcore_read.discovered_catalogs (
  catalog_key    text PRIMARY KEY,
  digest         text NOT NULL,
  plugin         text NOT NULL,
  image          text NOT NULL,
  streams        int NOT NULL,
  bytes          int NOT NULL,
  discovered_at  timestamptz NOT NULL,
  last_position  bigint NOT NULL
);
