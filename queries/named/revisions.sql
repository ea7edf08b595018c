-- All revisions in order (used by livemeta.db.list_revisions).
SELECT revision_id, created_at, author, message, kind, livemeta_version
FROM history.revisions
ORDER BY revision_id
