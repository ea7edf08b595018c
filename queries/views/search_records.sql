-- The records of the search runs as of the session's revision, one row each: title, abstract, authors, ids, keywords; duplicate_of names the record (or trial) it duplicates (NULL for a record screened), screened_as the record whose screening it shares, trials the trials in the database it reports.
WITH links AS (
    SELECT * FROM history.record_links WHERE visible_at(valid_from, valid_to) AND status = 'merged'
),
dup AS (
    SELECT record_id, target, target_kind, reason FROM links WHERE relation = 'duplicate'
),
trials AS (
    SELECT record_id, list(target ORDER BY target) AS trials
    FROM links WHERE relation = 'same_trial' AND target_kind = 'trial' GROUP BY record_id
)
SELECT r.record_id, r.run_id, s.source, r.n, r.title, r.abstract, r.authors, r.year, r.journal, r.doi, r.pmid,
       r.nct_ids, r.keywords, r.kind, r.accession, r.urls, r.export_file, r.export_line,
       d.target AS duplicate_of, d.target_kind AS duplicate_of_kind, d.reason AS duplicate_reason,
       CASE WHEN d.target IS NULL THEN r.record_id WHEN d.target_kind = 'record' THEN d.target END AS screened_as,
       coalesce(t.trials, t2.trials, []) AS trials,
       r.valid_from AS revision
FROM history.search_records AS r
JOIN history.searches AS s ON s.run_id = r.run_id AND visible_at(s.valid_from, s.valid_to)
LEFT JOIN dup AS d ON d.record_id = r.record_id
LEFT JOIN trials AS t ON t.record_id = r.record_id
LEFT JOIN trials AS t2 ON t2.record_id = d.target AND d.target_kind = 'record'
WHERE visible_at(r.valid_from, r.valid_to)
