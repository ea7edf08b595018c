-- The search runs as of the session's revision: the database searched, the query as run, the date, the records it returned, how many were duplicates, and the revision that added it.
SELECT s.run_id, s.source, s.query, s.searched_on, s.records,
       (SELECT count(*) FROM search_records AS r WHERE r.run_id = s.run_id AND r.duplicate_of IS NOT NULL) AS duplicates,
       f.added_in_revision, s.valid_from AS revision, s.path, s.files, s.note
FROM history.searches AS s
JOIN (SELECT run_id, min(valid_from) AS added_in_revision
      FROM history.searches WHERE valid_from <= as_of_revision() GROUP BY run_id) AS f USING (run_id)
WHERE visible_at(s.valid_from, s.valid_to)
