-- The next revision id (1 for an empty database).
SELECT coalesce(max(revision_id), 0) + 1 FROM history.revisions
