-- The kinds of project file each revision changed (NULL: not recorded).
SELECT revision_id, changes
FROM history.revisions
ORDER BY revision_id
