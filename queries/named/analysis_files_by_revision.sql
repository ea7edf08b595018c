-- The text of the analyses file in force at each revision (as analysis_file_at.sql gives it for one):
-- the file of the newest commit at or before the revision that recorded one.
WITH files AS (
    SELECT revision_id, arg_max(analyses_sha256, seq) AS sha256
    FROM history.commits
    WHERE analyses_sha256 IS NOT NULL AND revision_id IS NOT NULL
    GROUP BY revision_id
)
SELECT r.revision_id, a.text
FROM history.revisions AS r
ASOF JOIN files AS f ON r.revision_id >= f.revision_id
JOIN history.analysis_files AS a ON a.sha256 = f.sha256
ORDER BY r.revision_id
