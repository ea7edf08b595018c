-- Resistance definitions per trial and population: category, criterion, threshold, verbatim text.
SELECT * EXCLUDE (row_id)
FROM history.resistance_definitions
WHERE visible_at(valid_from, valid_to)
