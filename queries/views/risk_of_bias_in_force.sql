-- The risk-of-bias judgement in force per trial and outcome: the consensus, else the only assessor's.
-- status: 'consensus', 'single assessor', or 'awaiting consensus' (two assessors, no consensus yet:
-- no judgement is used). Trials without an assessment have no row: they are not assessed.
WITH assessments AS (
    SELECT * EXCLUDE (row_id)
    FROM history.risk_of_bias
    WHERE visible_at(valid_from, valid_to)
),
per AS (
    SELECT trial_id, endpoint, any_value(tool) AS tool,
           count(*) FILTER (WHERE role <> 'consensus') AS assessors,
           bool_or(role = 'consensus') AS has_consensus
    FROM assessments
    GROUP BY trial_id, endpoint
),
chosen AS (
    SELECT a.*
    FROM assessments AS a
    JOIN per AS p USING (trial_id, endpoint)
    WHERE a.role = 'consensus' OR (NOT p.has_consensus AND p.assessors = 1)
)
SELECT
    p.trial_id,
    p.endpoint,
    coalesce(c.tool, p.tool) AS tool,
    CASE WHEN p.has_consensus THEN 'consensus' WHEN p.assessors = 1 THEN 'single assessor'
         ELSE 'awaiting consensus' END AS status,
    c.assessment_id,
    c.result_id,
    c.assessor,
    c.source_id,
    c.d1_judgement, c.d2_judgement, c.d3_judgement, c.d4_judgement, c.d5_judgement, c.d6_judgement, c.d7_judgement,
    c.overall_judgement
FROM per AS p
LEFT JOIN chosen AS c USING (trial_id, endpoint)
