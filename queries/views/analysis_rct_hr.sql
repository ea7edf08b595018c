-- Hazard ratios of randomised comparisons, analysis-ready: yi = ln HR, vi from the CI at its printed level.
-- vi       = ((ln ci_high - ln ci_low) / (2 z))^2 with z for the printed ci_level (z_crit macro);
-- vi_alternative uses ci_level_alternative where the level is disputed (else the printed one).
-- One row per outcome (overall, resistance subgroup or other subgroup); trial_resistance is the
-- category the trial's own eligibility implies (its scope = 'trial' definition); rob_overall and rob_status the
-- risk-of-bias judgement in force for the trial's outcome (risk_of_bias_in_force; NULL: not assessed).
WITH trial_resistance AS (
    SELECT trial_id, arg_min(category, definition_id) AS trial_resistance
    FROM resistance_definitions
    WHERE scope = 'trial'
    GROUP BY trial_id
)
SELECT
    o.trial_id,
    t.name AS trial,
    CASE o.population
        WHEN 'overall' THEN t.name
        ELSE t.name || ' (' || coalesce(o.subgroup, o.definition_id) || ')'
    END AS label,
    o.outcome_id,
    o.endpoint,
    o.population,
    o.definition_id,
    o.subgroup,
    o.estimate,
    o.ci_low,
    o.ci_high,
    o.ci_level,
    o.ci_level_alternative,
    o.dispute,
    ln(o.estimate) AS yi,
    pow((ln(o.ci_high) - ln(o.ci_low)) / (2 * z_crit(o.ci_level)), 2) AS vi,
    pow((ln(o.ci_high) - ln(o.ci_low)) / (2 * z_crit(coalesce(o.ci_level_alternative, o.ci_level))), 2) AS vi_alternative,
    e.treatment_class,
    e.regimen AS experimental_regimen,
    e.pd1_agent,
    c.control_type,
    c.regimen AS control_regimen,
    r.trial_resistance,
    t.first_published,
    t.first_publication_date,
    t.inclusion,
    o.verified,
    o.source_id,
    o.raw_text,
    rb.overall_judgement AS rob_overall,
    rb.status AS rob_status
FROM outcomes AS o
JOIN trials AS t USING (trial_id)
JOIN arms AS e ON e.trial_id = o.trial_id AND e.arm_id = o.experimental_arm_id
LEFT JOIN arms AS c ON c.trial_id = o.trial_id AND c.arm_id = o.control_arm_id
LEFT JOIN trial_resistance AS r ON r.trial_id = o.trial_id
LEFT JOIN risk_of_bias_in_force AS rb ON rb.trial_id = o.trial_id AND rb.endpoint = o.endpoint
WHERE t.design = 'rct'
  AND o.measure = 'HR'
  AND o.control_arm_id IS NOT NULL
  AND o.estimate IS NOT NULL AND o.ci_low IS NOT NULL AND o.ci_high IS NOT NULL AND o.ci_level IS NOT NULL
