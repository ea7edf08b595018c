-- Add the batch's rows of one table as of revision $revision. {frame} is a pandas DataFrame
-- registered on the connection with exactly the table's columns but row_id, valid_from, valid_to;
-- row_id comes from history.row_id_seq. {table} is one of the six evidence tables.
INSERT INTO history.{table} BY NAME
SELECT *, $revision AS valid_from
FROM {frame}
