-- The last revision made before the timestamp $1 (the end of the day asked for).
SELECT max(revision_id) FROM history.revisions WHERE created_at < ?
