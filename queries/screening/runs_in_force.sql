-- Every search run in force: its id, how many records it holds, and the revision it was first added.
SELECT s.run_id, s.records, f.first_revision
FROM history.searches AS s
JOIN (SELECT run_id, min(valid_from) AS first_revision FROM history.searches GROUP BY run_id) AS f USING (run_id)
WHERE s.valid_to IS NULL
ORDER BY s.run_id
