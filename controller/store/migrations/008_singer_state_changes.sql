-- Singer state set or cleared by a person through the API (events SingerStateSet and
-- SingerStateCleared): who made the stored state what it is, shown beside it until a run
-- captures newer state.
ALTER TABLE flexcore_read.singer_state ADD COLUMN changed_by text;
