-- RCT grade >=3 treatment-related adverse events as 2x2 counts (experimental vs control arm of the
-- trial's randomised comparison). Grade bands '>=3', '3-4' and '3' count, in that order of preference
-- (grade_band says which was printed); only aggregate rows with both arms' counts.
WITH g3 AS (
    SELECT *,
           row_number() OVER (PARTITION BY trial_id, arm_id
                              ORDER BY CASE grade_band WHEN '>=3' THEN 1 WHEN '3-4' THEN 2 ELSE 3 END, ae_id) AS pick
    FROM adverse_events
    WHERE kind = 'aggregate' AND treatment_related AND grade_band IN ('>=3', '3-4', '3')
      AND subjects_affected IS NOT NULL AND subjects_at_risk IS NOT NULL
)
SELECT
    k.trial_id,
    t.name AS trial,
    t.name AS label,
    x.subjects_affected AS ai,
    x.subjects_at_risk - x.subjects_affected AS bi,
    y.subjects_affected AS ci,
    y.subjects_at_risk - y.subjects_affected AS di,
    x.subjects_at_risk AS n1i,
    y.subjects_at_risk AS n2i,
    x.grade_band AS experimental_grade_band,
    y.grade_band AS control_grade_band,
    e.treatment_class,
    c.control_type,
    t.first_published,
    t.first_publication_date,
    t.inclusion,
    x.verified AND y.verified AS verified
FROM rct_comparisons AS k
JOIN trials AS t USING (trial_id)
JOIN g3 AS x ON x.trial_id = k.trial_id AND x.arm_id = k.experimental_arm_id AND x.pick = 1
JOIN g3 AS y ON y.trial_id = k.trial_id AND y.arm_id = k.control_arm_id AND y.pick = 1
JOIN arms AS e ON e.trial_id = k.trial_id AND e.arm_id = k.experimental_arm_id
JOIN arms AS c ON c.trial_id = k.trial_id AND c.arm_id = k.control_arm_id
WHERE t.design = 'rct'
