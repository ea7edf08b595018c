-- Each revision's note (the review's own words; the commit message before notes were recorded) and
-- whether its kinds of change are recorded where a commit made it (a database replayed before they
-- were is rebuilt).
SELECT revision_id, revision_note(note, changes, message), changes IS NOT NULL OR NOT EXISTS (
    SELECT 1 FROM history.commits AS c WHERE c.revision_id = r.revision_id AND c.makes_revision)
FROM history.revisions AS r
ORDER BY revision_id
