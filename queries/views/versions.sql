-- The named versions of the evidence (a published review, each published update) and the revision each names.
SELECT v.name, v.revision_id, v.commit_sha, v.description, r.created_at
FROM history.versions AS v
JOIN history.revisions AS r USING (revision_id)
WHERE v.revision_id <= as_of_revision()
ORDER BY v.revision_id, v.name
