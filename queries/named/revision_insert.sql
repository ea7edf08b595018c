-- Record a revision: (revision_id, created_at, author, message, kind, livemeta_version).
INSERT INTO history.revisions VALUES (?, ?, ?, ?, ?, ?)
