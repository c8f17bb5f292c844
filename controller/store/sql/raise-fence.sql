-- Raises fence $1 to its newest token + 1 and returns it (a new leader's token), waiting at
-- most $2 ms for appends of older tokens still in flight.
SELECT flexcore.raise_fence($1, $2) AS token
