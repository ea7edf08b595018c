-- The current rows of one history table for the trials in $trial_ids (a VARCHAR[]), as written
-- by the study file (bookkeeping columns left out). {table} is one of the six evidence tables.
SELECT * EXCLUDE (row_id, valid_from, valid_to)
FROM history.{table}
WHERE valid_to IS NULL
  AND list_contains($trial_ids, trial_id)
