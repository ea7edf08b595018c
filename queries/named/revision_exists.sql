-- Whether revision $1 exists (0 or 1).
SELECT count(*) FROM history.revisions WHERE revision_id = ?
