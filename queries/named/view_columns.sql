-- The columns of every view of the main schema, in order (livemeta views).
SELECT table_name, column_name
FROM information_schema.columns
WHERE table_schema = 'main'
ORDER BY table_name, ordinal_position
