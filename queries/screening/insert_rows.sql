-- Add the rows of {frame} (exactly the columns of history.{table} but valid_from and valid_to)
-- as of revision $revision.
INSERT INTO history.{table} BY NAME
SELECT *, $revision AS valid_from
FROM {frame}
