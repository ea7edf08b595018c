-- The current (newest) revision id, NULL for an empty database.
SELECT max(revision_id) FROM history.revisions
