-- The trials of the session's revision (the views read as of `livemeta_as_of`), by id.
SELECT trial_id FROM trials ORDER BY trial_id
