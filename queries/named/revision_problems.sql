-- Why replayed commits were rejected: revision_id, file, record path, reason.
SELECT revision_id, file, path, reason
FROM history.revision_problems
ORDER BY revision_id, problem_no
