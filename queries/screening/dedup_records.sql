-- What de-duplication reads of every record in force, with what orders them (the revision its run
-- was first added, the date it was run, the run, the position in the run).
SELECT r.record_id, f.first_revision, s.searched_on, r.run_id, r.n, r.title, r.year, r.authors[1] AS first_author,
       r.doi, r.pmid, r.nct_ids, r.kind
FROM history.search_records AS r
JOIN history.searches AS s ON s.run_id = r.run_id AND s.valid_to IS NULL
JOIN (SELECT run_id, min(valid_from) AS first_revision FROM history.searches GROUP BY run_id) AS f ON f.run_id = r.run_id
WHERE r.valid_to IS NULL
