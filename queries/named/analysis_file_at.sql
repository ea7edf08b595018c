-- The text of the analyses file in force at revision $1 (NULL for a database built before 0004).
SELECT a.text
FROM history.commits AS c
JOIN history.analysis_files AS a ON a.sha256 = c.analyses_sha256
WHERE c.revision_id <= $1 AND c.analyses_sha256 IS NOT NULL
ORDER BY c.seq DESC
LIMIT 1
