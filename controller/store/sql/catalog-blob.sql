-- A stored catalog by digest ($1).
SELECT body FROM flexcore.catalog_blobs WHERE digest = $1
