-- The trials as of the session's revision (current by default): one row per trial.
SELECT * EXCLUDE (row_id)
FROM history.trials
WHERE visible_at(valid_from, valid_to)
