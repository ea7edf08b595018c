-- Every revision with the commit that made it, whether it was applied or rejected when replayed,
-- and the versions that name it (with their descriptions).
SELECT r.revision_id, r.created_at, r.author, r.message, r.kind, r.livemeta_version, r.changes,
       revision_note(r.note, r.changes, r.message) AS note, r.changed_files,
       c.commit_sha, c.status,
       coalesce((SELECT list(v.name ORDER BY v.name) FROM history.versions AS v WHERE v.revision_id = r.revision_id), []) AS versions,
       coalesce((SELECT list(v.description ORDER BY v.name) FROM history.versions AS v WHERE v.revision_id = r.revision_id), []) AS descriptions
FROM history.revisions AS r
LEFT JOIN history.commits AS c ON c.revision_id = r.revision_id AND c.makes_revision
ORDER BY r.revision_id
