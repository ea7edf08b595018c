-- The commit that made revision $1 (the last commit with that revision in force, for a revision a
-- later commit left unchanged, e.g. one naming a version).
SELECT commit_sha
FROM history.commits
WHERE revision_id = $1 AND makes_revision
ORDER BY seq DESC
LIMIT 1
