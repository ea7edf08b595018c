-- The mark of the views installed (a comment on view $1: a SHA-256 of the macros and views), or no row.
SELECT comment FROM duckdb_views() WHERE schema_name = 'main' AND view_name = $1
