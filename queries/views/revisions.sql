-- Every revision: its commit, author, message, whether it was applied or rejected, and the trials it changed.
SELECT r.revision_id, r.created_at, r.author, r.message, r.kind, r.livemeta_version,
       c.commit_sha, c.status,
       count(f.trial_id) FILTER (WHERE f.action = 'added')      AS trials_added,
       count(f.trial_id) FILTER (WHERE f.action = 'superseded') AS trials_superseded,
       count(f.trial_id) FILTER (WHERE f.action = 'removed')    AS trials_removed
FROM history.revisions AS r
LEFT JOIN history.commits AS c ON c.revision_id = r.revision_id AND c.makes_revision
LEFT JOIN history.revision_files AS f ON f.revision_id = r.revision_id
WHERE r.revision_id <= as_of_revision()
GROUP BY ALL
ORDER BY r.revision_id
