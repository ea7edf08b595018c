-- The records a ranking model reads at stage $1 (as of the session's revision), for `livemeta screen
-- rank` and `screen next`: every record to screen at the stage as `screen export --all` lists them (not
-- duplicates; at ft those passed to full text), in its order, with title, abstract, keywords, authors,
-- year and journal; pending: no final decision at the stage yet (what `screen export` lists); the final
-- decision and reason (screening_status), and when the record was settled (its latest decision at the
-- stage); the latest decision of reviewer $2 on it at the stage (any role), its reason and time.
WITH own AS (
    SELECT screened_as, decision, reason, decided_at,
           row_number() OVER (PARTITION BY screened_as ORDER BY decided_at DESC, record_id) AS k
    FROM screening_decisions
    WHERE stage = $1 AND reviewer = $2
),
settled AS (
    SELECT screened_as, max(decided_at) AS settled_at
    FROM screening_decisions
    WHERE stage = $1
    GROUP BY screened_as
)
SELECT f.record_id, r.title, r.abstract, r.keywords, r.authors, r.year, r.journal,
       ($1 = 'ta' AND f.flow = 'ta_pending') OR ($1 = 'ft' AND f.flow = 'ft_pending') AS pending,
       s.final_decision, s.final_reason, t.settled_at,
       o.decision AS own_decision, o.reason AS own_reason, o.decided_at AS own_at
FROM screening_flow AS f
JOIN search_records AS r USING (record_id)
LEFT JOIN screening_status AS s ON s.record_id = f.record_id AND s.stage = $1
LEFT JOIN settled AS t ON t.screened_as = f.record_id
LEFT JOIN own AS o ON o.screened_as = f.record_id AND o.k = 1
WHERE f.flow <> 'duplicate'
  AND ($1 = 'ta' OR f.flow IN ('ft_pending', 'not_retrieved', 'ft_excluded', 'included'))
ORDER BY r.run_id, r.n
