-- Supersede: close the current rows of the trials in $trial_ids at revision $revision.
-- The rows stay, readable as of any earlier revision. {table} is one of the six evidence tables.
UPDATE history.{table}
SET valid_to = $revision
WHERE valid_to IS NULL
  AND list_contains($trial_ids, trial_id)
