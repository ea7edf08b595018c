-- Every revision's id, time, author and message, at any schema version (a database a livemeta
-- before the git history wrote, looked at before it is rebuilt).
SELECT revision_id, created_at, author, message
FROM history.revisions
ORDER BY revision_id
