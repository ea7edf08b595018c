-- Outcomes as printed: endpoint, measure, estimate and CI, counts, medians, source and raw text.
SELECT * EXCLUDE (row_id)
FROM history.outcomes
WHERE visible_at(valid_from, valid_to)
