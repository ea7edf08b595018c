-- Screening progress per stage (as of the session's revision): records to screen (ta: every record
-- that is not a duplicate; ft: those passed to full text), with a decision, decided (by final decision),
-- awaiting a reviewer, in conflict, conflicts resolved, and the time recorded (decisions timed, seconds).
WITH base AS (
    SELECT 'ta' AS stage, record_id FROM screening_flow WHERE flow <> 'duplicate'
    UNION ALL
    SELECT 'ft', record_id FROM screening_flow WHERE flow IN ('ft_pending', 'not_retrieved', 'ft_excluded', 'included')
),
timed AS (
    SELECT stage, count(seconds) AS timed, sum(seconds) AS seconds, median(seconds) AS median_seconds
    FROM screening_decisions GROUP BY stage
)
SELECT b.stage,
       count(*) AS records,
       count(s.record_id) AS with_decisions,
       count(*) FILTER (WHERE s.final_decision = 'include') AS included,
       count(*) FILTER (WHERE s.final_decision = 'exclude') AS excluded,
       count(*) FILTER (WHERE s.final_decision = 'maybe') AS maybe,
       count(*) FILTER (WHERE s.status = 'awaiting') AS awaiting,
       count(*) FILTER (WHERE s.record_id IS NULL) AS undecided,
       count(*) FILTER (WHERE s.status = 'conflict') AS conflicts,
       count(*) FILTER (WHERE s.resolved_conflict) AS resolved,
       coalesce(any_value(t.timed), 0) AS timed, any_value(t.seconds) AS seconds, any_value(t.median_seconds) AS median_seconds
FROM base AS b
LEFT JOIN screening_status AS s ON s.record_id = b.record_id AND s.stage = b.stage
LEFT JOIN timed AS t ON t.stage = b.stage
GROUP BY b.stage
ORDER BY b.stage DESC
