-- Every table of the history schema (the evidence tables, revisions and their bookkeeping).
SELECT table_name
FROM information_schema.tables
WHERE table_schema = 'history' AND table_type = 'BASE TABLE'
ORDER BY table_name
