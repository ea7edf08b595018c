-- The screening protocol as of the session's revision: independent reviewers per record at each stage (ta, ft) and the controlled list of full-text exclusion reasons (not_retrieved always on it).
SELECT 'reviewers' AS item, p.stage AS id, CAST(p.reviewers AS VARCHAR) AS value
FROM history.screening_protocol AS p WHERE visible_at(p.valid_from, p.valid_to)
UNION ALL
SELECT 'exclusion_reason', e.reason_id, e.label
FROM history.exclusion_reasons AS e WHERE visible_at(e.valid_from, e.valid_to)
UNION ALL
SELECT 'exclusion_reason', 'not_retrieved', 'Full text not retrieved'
