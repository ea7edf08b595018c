-- Close (valid_to = $revision) the rows of history.{table} in force whose key ({match}, columns of
-- the table `t` and of the registered frame `f`) is in {frame}: a row changed or went away.
UPDATE history.{table} AS t
SET valid_to = $revision
FROM {frame} AS f
WHERE t.valid_to IS NULL AND {match}
