-- The identifiers of the trials in force (their sources' DOI, PMID, NCT id and URL; the trial's
-- NCT id and other ids), each with the first revision at which the trial had it: raw, as the study
-- files write them (normalised by livemeta.search.ids).
WITH current AS (SELECT DISTINCT trial_id FROM history.trials WHERE valid_to IS NULL)
SELECT s.trial_id, 'doi' AS kind, s.doi AS value, min(s.valid_from) AS since
FROM history.sources AS s JOIN current USING (trial_id) WHERE s.doi IS NOT NULL GROUP BY ALL
UNION ALL
SELECT s.trial_id, 'pmid', s.pmid, min(s.valid_from)
FROM history.sources AS s JOIN current USING (trial_id) WHERE s.pmid IS NOT NULL GROUP BY ALL
UNION ALL
SELECT s.trial_id, 'nct_id', s.nct_id, min(s.valid_from)
FROM history.sources AS s JOIN current USING (trial_id) WHERE s.nct_id IS NOT NULL GROUP BY ALL
UNION ALL
SELECT s.trial_id, 'url', s.url, min(s.valid_from)
FROM history.sources AS s JOIN current USING (trial_id) WHERE s.url IS NOT NULL GROUP BY ALL
UNION ALL
SELECT t.trial_id, 'nct_id', t.nct_id, min(t.valid_from)
FROM history.trials AS t JOIN current USING (trial_id) WHERE t.nct_id IS NOT NULL GROUP BY ALL
UNION ALL
SELECT t.trial_id, 'other_ids', t.other_ids, min(t.valid_from)
FROM history.trials AS t JOIN current USING (trial_id) WHERE t.other_ids IS NOT NULL GROUP BY ALL
ORDER BY ALL
