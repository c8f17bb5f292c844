-- The newest fencing token the database has accepted for a fence ($1), or NULL.
SELECT token FROM flexcore.fences WHERE fence = $1
