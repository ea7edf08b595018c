-- The sources cited by each trial's study file (citation, DOI / PMID / NCT / URL).
SELECT * EXCLUDE (row_id)
FROM history.sources
WHERE visible_at(valid_from, valid_to)
