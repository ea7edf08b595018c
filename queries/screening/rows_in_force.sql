-- The rows of history.{table} in force (valid_to NULL), without their validity columns, in a
-- stable order; {where} narrows them (e.g. `AND run_id = $value`), or is empty.
SELECT * EXCLUDE (valid_from, valid_to)
FROM history.{table}
WHERE valid_to IS NULL {where}
ORDER BY ALL
