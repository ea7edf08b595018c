-- Every revision (build or ingest) with its author, message and the trials it added or superseded.
SELECT r.revision_id, r.created_at, r.author, r.message, r.kind, r.livemeta_version,
       count(f.trial_id) FILTER (WHERE f.action = 'added')      AS trials_added,
       count(f.trial_id) FILTER (WHERE f.action = 'superseded') AS trials_superseded
FROM history.revisions AS r
LEFT JOIN history.revision_files AS f USING (revision_id)
WHERE r.revision_id <= as_of_revision()
GROUP BY ALL
ORDER BY r.revision_id
