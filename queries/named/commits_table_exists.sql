-- Whether the commits table exists (0 or 1): it came with schema version 4.
SELECT count(*) FROM information_schema.tables WHERE table_schema = 'history' AND table_name = 'commits'
