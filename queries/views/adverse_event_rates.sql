-- Adverse-event rates per arm, for ad hoc SQL: trial, arm, grade band, treatment-related, n/N and percent.
-- percent_calculated is subjects_affected / subjects_at_risk (NULL without both); percent_printed is as printed.
SELECT
    e.trial_id,
    t.name AS trial,
    t.design,
    t.inclusion,
    e.arm_id,
    a.role,
    a.regimen,
    a.treatment_class,
    e.ae_id,
    e.term,
    e.kind,
    e.grade_band,
    e.treatment_related,
    e.subjects_affected,
    e.subjects_at_risk,
    round(100.0 * e.subjects_affected / nullif(e.subjects_at_risk, 0), 1) AS percent_calculated,
    e.percent AS percent_printed,
    e.verified,
    e.source_id
FROM adverse_events AS e
JOIN trials AS t USING (trial_id)
JOIN arms AS a ON a.trial_id = e.trial_id AND a.arm_id = e.arm_id
ORDER BY t.name, a.role DESC, e.arm_id, e.kind, e.term, e.grade_band
