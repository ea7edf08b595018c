-- The records an imported screening decision can be about (current state): id, the record whose
-- screening it counts for, title, year, DOI, PMID.
SELECT record_id, coalesce(screened_as, record_id), coalesce(title, ''), year, doi, pmid
FROM search_records
ORDER BY record_id
