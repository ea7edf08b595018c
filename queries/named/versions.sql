-- The named versions, oldest revision first: name, revision_id, commit_sha, description.
SELECT name, revision_id, commit_sha, description
FROM history.versions
ORDER BY revision_id, name
