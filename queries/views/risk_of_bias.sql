-- Risk-of-bias judgements, one row per assessment and domain (RoB 2: D1-D5, ROBINS-I: D1-D7, then Overall).
-- domain_name is the tool's name of the domain; role is reviewer_1, reviewer_2 or consensus.
WITH names (tool, domain, domain_no, domain_name) AS (
    VALUES
        ('rob2', 'D1', 1, 'Bias arising from the randomisation process'),
        ('rob2', 'D2', 2, 'Bias due to deviations from intended interventions'),
        ('rob2', 'D3', 3, 'Bias due to missing outcome data'),
        ('rob2', 'D4', 4, 'Bias in measurement of the outcome'),
        ('rob2', 'D5', 5, 'Bias in selection of the reported result'),
        ('rob2', 'Overall', 9, 'Overall risk of bias'),
        ('robins_i', 'D1', 1, 'Bias due to confounding'),
        ('robins_i', 'D2', 2, 'Bias in selection of participants into the study'),
        ('robins_i', 'D3', 3, 'Bias in classification of interventions'),
        ('robins_i', 'D4', 4, 'Bias due to deviations from intended interventions'),
        ('robins_i', 'D5', 5, 'Bias due to missing data'),
        ('robins_i', 'D6', 6, 'Bias in measurement of outcomes'),
        ('robins_i', 'D7', 7, 'Bias in selection of the reported result'),
        ('robins_i', 'Overall', 9, 'Overall risk of bias')
),
assessments AS (
    SELECT * EXCLUDE (row_id)
    FROM history.risk_of_bias
    WHERE visible_at(valid_from, valid_to)
),
long AS (
    SELECT a.trial_id, a.assessment_id, a.tool, a.endpoint, a.result_id, a.role, a.assessor, a.assessed_on,
           a.source_id, a.valid_from,
           unnest([
               {'domain': 'D1', 'judgement': a.d1_judgement, 'support': a.d1_support},
               {'domain': 'D2', 'judgement': a.d2_judgement, 'support': a.d2_support},
               {'domain': 'D3', 'judgement': a.d3_judgement, 'support': a.d3_support},
               {'domain': 'D4', 'judgement': a.d4_judgement, 'support': a.d4_support},
               {'domain': 'D5', 'judgement': a.d5_judgement, 'support': a.d5_support},
               {'domain': 'D6', 'judgement': a.d6_judgement, 'support': a.d6_support},
               {'domain': 'D7', 'judgement': a.d7_judgement, 'support': a.d7_support},
               {'domain': 'Overall', 'judgement': a.overall_judgement, 'support': a.overall_support}
           ], recursive := true)
    FROM assessments AS a
)
SELECT l.trial_id, t.name AS trial, l.assessment_id, l.tool, l.endpoint, l.result_id, l.role, l.assessor,
       l.assessed_on, l.source_id, l.domain, n.domain_name, l.judgement, l.support, n.domain_no, l.valid_from
FROM long AS l
JOIN names AS n ON n.tool = l.tool AND n.domain = l.domain
JOIN trials AS t ON t.trial_id = l.trial_id
WHERE l.judgement IS NOT NULL
ORDER BY t.name, l.endpoint, l.role, n.domain_no
