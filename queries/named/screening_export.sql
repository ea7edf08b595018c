-- The records to screen at stage $1 (as of the session's revision), for a screening tool: the records
-- that are not duplicates; at full text those passed to it. $2: only those without a final decision.
SELECT f.record_id AS livemeta_id, r.title, r.abstract, r.authors, r.year, r.journal, r.doi, r.pmid, r.keywords
FROM screening_flow AS f
JOIN search_records AS r USING (record_id)
WHERE f.flow <> 'duplicate'
  AND ($1 = 'ta' OR f.flow IN ('ft_pending', 'not_retrieved', 'ft_excluded', 'included'))
  AND (NOT $2 OR ($1 = 'ta' AND f.flow = 'ta_pending') OR ($1 = 'ft' AND f.flow = 'ft_pending'))
ORDER BY r.run_id, r.n
