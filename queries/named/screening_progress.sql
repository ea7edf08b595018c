-- What revision $1 did to the searches and the screening: search runs first added, records added,
-- decisions added at title/abstract and at full text, decisions withdrawn (closed).
SELECT
    (SELECT count(*) FROM history.searches AS s WHERE s.valid_from = $1
       AND NOT EXISTS (SELECT 1 FROM history.searches AS e WHERE e.run_id = s.run_id AND e.valid_from < $1)) AS runs_added,
    (SELECT count(*) FROM history.search_records WHERE valid_from = $1) AS records_added,
    (SELECT count(*) FROM history.screening_decisions WHERE valid_from = $1 AND stage = 'ta') AS ta_decisions,
    (SELECT count(*) FROM history.screening_decisions WHERE valid_from = $1 AND stage = 'ft') AS ft_decisions,
    (SELECT count(*) FROM history.screening_decisions WHERE valid_to = $1) AS withdrawn
