-- Record a replayed commit: (seq, commit_sha, revision_id, makes_revision, status, author_email,
-- analyses_sha256).
INSERT INTO history.commits VALUES (?, ?, ?, ?, ?, ?, ?)
