-- Replay's step: the next events into the read models on the search_path (migration 009).
SELECT projected, last_position FROM flexcore.project_batch($1, $2)
