-- Record a revision: (revision_id, created_at, author, message, kind, livemeta_version, changes,
-- note, changed_files).
INSERT INTO history.revisions (revision_id, created_at, author, message, kind, livemeta_version, changes, note, changed_files)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
