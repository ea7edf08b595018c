-- All revisions in order (used by livemeta.db.list_revisions), with what kind of change each is in
-- words (the macro revision_kind).
SELECT revision_id, created_at, author, message, kind, livemeta_version, changes,
       revision_note(note, changes, message) AS note, changed_files,
       revision_kind(kind, changes) AS label
FROM history.revisions
ORDER BY revision_id
