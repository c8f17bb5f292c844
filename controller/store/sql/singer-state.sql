-- Stored Singer state of a state id ($1): the last succeeded run's and a newer partial one.
SELECT state, state_at, partial_state, partial_at
FROM flexcore_read.singer_state
WHERE state_id = $1
