-- The tables of the history schema of an attached database ($1: its alias).
SELECT table_name
FROM duckdb_tables()
WHERE database_name = $1 AND schema_name = 'history'
ORDER BY table_name
