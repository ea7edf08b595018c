-- RCT grade >=3 treatment-related adverse events as 2x2 counts (experimental vs control arm of the
-- trial's randomised comparison), both arms in the same grade band: '>=3' where both report it,
-- else '3-4', else '3' (grade_band says which). Only aggregate rows with counts in both arms.
WITH g3 AS (
    SELECT *
    FROM adverse_events
    WHERE kind = 'aggregate' AND treatment_related AND grade_band IN ('>=3', '3-4', '3')
      AND subjects_affected IS NOT NULL AND subjects_at_risk IS NOT NULL
),
pairs AS (
    SELECT k.trial_id, k.experimental_arm_id, k.control_arm_id, x.grade_band, x.ae_id AS x_ae_id, y.ae_id AS y_ae_id,
           x.subjects_affected AS x_affected, x.subjects_at_risk AS x_at_risk, x.verified AS x_verified, x.source_id AS x_source_id,
           y.subjects_affected AS y_affected, y.subjects_at_risk AS y_at_risk, y.verified AS y_verified
    FROM rct_comparisons AS k
    JOIN g3 AS x ON x.trial_id = k.trial_id AND x.arm_id = k.experimental_arm_id
    JOIN g3 AS y ON y.trial_id = k.trial_id AND y.arm_id = k.control_arm_id AND y.grade_band = x.grade_band
    QUALIFY row_number() OVER (
        PARTITION BY k.trial_id
        ORDER BY CASE x.grade_band WHEN '>=3' THEN 1 WHEN '3-4' THEN 2 ELSE 3 END, x.ae_id, y.ae_id
    ) = 1
)
SELECT
    p.trial_id,
    t.name AS trial,
    t.name AS label,
    p.x_ae_id AS ae_id_experimental,
    p.y_ae_id AS ae_id_control,
    p.x_affected AS ai,
    p.x_at_risk - p.x_affected AS bi,
    p.y_affected AS ci,
    p.y_at_risk - p.y_affected AS di,
    p.x_at_risk AS n1i,
    p.y_at_risk AS n2i,
    p.grade_band,
    e.treatment_class,
    c.control_type,
    t.first_published,
    t.first_publication_date,
    t.inclusion,
    p.x_verified AND p.y_verified AS verified,
    p.x_source_id AS source_id,
    rb.rob_overall,
    rb.rob_status
FROM pairs AS p
JOIN trials AS t USING (trial_id)
JOIN arms AS e ON e.trial_id = p.trial_id AND e.arm_id = p.experimental_arm_id
JOIN arms AS c ON c.trial_id = p.trial_id AND c.arm_id = p.control_arm_id
LEFT JOIN analysis_risk_of_bias AS rb ON rb.trial_id = p.trial_id AND rb.ae_id = p.x_ae_id
WHERE t.design = 'rct'
