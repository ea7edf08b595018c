-- Whether the migrations table exists (0 or 1): a database no migration has touched has none.
SELECT count(*) FROM information_schema.tables
WHERE table_schema = 'history' AND table_name = 'schema_migrations'
