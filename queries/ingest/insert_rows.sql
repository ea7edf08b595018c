-- Add the batch's rows of one table as of revision $revision. {frame} is a pandas DataFrame
-- registered on the connection with exactly the table's columns but valid_from, valid_to; its
-- row_id numbers the rows after the largest one (max_row_id.sql), in the batch's order.
-- {table} is one of the six evidence tables.
INSERT INTO history.{table} BY NAME
SELECT *, $revision AS valid_from
FROM {frame}
