-- Raises fence $1 to its newest token + 1 and returns it (a new leader's token).
SELECT flexcore.raise_fence($1) AS token
