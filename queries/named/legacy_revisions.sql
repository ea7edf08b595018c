-- Revisions no commit made: written by a livemeta before the history moved to git (0004). No
-- repository can reproduce them.
SELECT r.revision_id, r.created_at, r.author, r.message
FROM history.revisions AS r
WHERE NOT EXISTS (SELECT 1 FROM history.commits AS c WHERE c.revision_id = r.revision_id AND c.makes_revision)
ORDER BY r.revision_id
