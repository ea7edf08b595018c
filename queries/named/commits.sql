-- The commits the database was built from, in their linear order.
SELECT seq, commit_sha, revision_id, makes_revision, status, author_email, analyses_sha256
FROM history.commits
ORDER BY seq
