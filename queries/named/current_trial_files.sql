-- The study file that holds each current trial: the path recorded by the revision that last
-- added or superseded it.
SELECT f.trial_id, arg_max(f.path, f.revision_id) AS path
FROM history.revision_files AS f
JOIN history.trials AS t ON t.trial_id = f.trial_id AND t.valid_to IS NULL
WHERE f.action IN ('added', 'superseded')
GROUP BY f.trial_id
