-- Adverse events per arm: term or aggregate, grade band, subjects affected and at risk.
SELECT * EXCLUDE (row_id)
FROM history.adverse_events
WHERE visible_at(valid_from, valid_to)
