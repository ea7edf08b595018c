-- The current rows of one history table for every trial (bookkeeping columns left out), as
-- written by the study files. {table} is one of the six evidence tables.
SELECT * EXCLUDE (row_id, valid_from, valid_to)
FROM history.{table}
WHERE valid_to IS NULL
