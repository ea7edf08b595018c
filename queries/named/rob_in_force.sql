-- The risk-of-bias judgements in force for one tool ($1) and outcome ($2), one row per trial with
-- a judgement (consensus or a single assessor), in order of first publication.
SELECT t.name AS study, r.*
FROM risk_of_bias_in_force AS r
JOIN trials AS t USING (trial_id)
WHERE r.tool = $1 AND r.endpoint = $2 AND r.overall_judgement IS NOT NULL
ORDER BY t.first_publication_date NULLS LAST, t.name
