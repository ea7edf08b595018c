-- Each screened record at each stage as of the session's revision: its independent decisions (the latest of each reviewer), the reviewers the protocol asks for, any consensus decision, the final decision and reason, and the status (awaiting: fewer reviewers than required; conflict: they disagree, or give different full-text reasons or trials; decided).
WITH required AS (
    SELECT s.stage, coalesce(p.reviewers, 1) AS reviewers
    FROM (VALUES ('ta'), ('ft')) AS s(stage)
    LEFT JOIN history.screening_protocol AS p ON p.stage = s.stage AND visible_at(p.valid_from, p.valid_to)
),
latest AS (
    SELECT *, row_number() OVER (PARTITION BY screened_as, stage, reviewer, role ORDER BY decided_at DESC, record_id) AS k
    FROM screening_decisions
),
independent AS (
    SELECT screened_as, stage,
           count(*) AS decisions,
           list(reviewer ORDER BY decided_at, reviewer) AS reviewers,
           list(decision ORDER BY decided_at, reviewer) AS decided,
           count(DISTINCT decision) AS kinds,
           count(DISTINCT coalesce(reason, '')) FILTER (WHERE decision = 'exclude') AS reasons,
           count(DISTINCT trial_id) AS trials,
           min(decision) AS decision,
           min(reason) FILTER (WHERE decision = 'exclude') AS reason,
           min(trial_id) AS trial_id,
           sum(seconds) AS seconds,
           count(seconds) AS timed
    FROM latest WHERE k = 1 AND role = 'independent'
    GROUP BY screened_as, stage
),
consensus AS (
    SELECT screened_as, stage, decision, reason, trial_id, reviewer
    FROM (SELECT *, row_number() OVER (PARTITION BY screened_as, stage ORDER BY decided_at DESC, reviewer) AS j
          FROM latest WHERE k = 1 AND role = 'consensus')
    WHERE j = 1
),
keys AS (
    SELECT screened_as, stage FROM independent UNION SELECT screened_as, stage FROM consensus
)
SELECT k.screened_as AS record_id, k.stage, q.reviewers AS reviewers_required,
       coalesce(i.decisions, 0) AS decisions, coalesce(i.reviewers, []) AS reviewers, coalesce(i.decided, []) AS decided,
       c.decision AS consensus, c.reviewer AS consensus_by,
       CASE WHEN c.decision IS NOT NULL THEN 'decided'
            WHEN coalesce(i.decisions, 0) < q.reviewers THEN 'awaiting'
            WHEN i.kinds > 1 OR (k.stage = 'ft' AND i.reasons > 1) OR i.trials > 1 THEN 'conflict'
            ELSE 'decided' END AS status,
       CASE WHEN c.decision IS NOT NULL THEN c.decision
            WHEN coalesce(i.decisions, 0) >= q.reviewers AND i.kinds = 1 AND NOT (k.stage = 'ft' AND i.reasons > 1)
                 AND i.trials <= 1 THEN i.decision END AS final_decision,
       CASE WHEN c.decision IS NOT NULL THEN c.reason ELSE i.reason END AS final_reason,
       CASE WHEN c.decision IS NOT NULL THEN c.trial_id ELSE i.trial_id END AS trial_id,
       c.decision IS NOT NULL AND (i.kinds > 1 OR (k.stage = 'ft' AND i.reasons > 1) OR i.trials > 1) AS resolved_conflict,
       i.seconds, i.timed
FROM keys AS k
JOIN required AS q ON q.stage = k.stage
LEFT JOIN independent AS i ON i.screened_as = k.screened_as AND i.stage = k.stage
LEFT JOIN consensus AS c ON c.screened_as = k.screened_as AND c.stage = k.stage
