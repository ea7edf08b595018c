-- Trials known to exist, and which analysis inputs each lacks (the gaps are data too).
-- One row per trial not excluded: whether it contributes an OS / PFS hazard ratio, ORR counts,
-- grade >=3 AE counts (RCTs) or response counts (single-arm), and a readable list of what is missing.
WITH has AS (
    SELECT
        t.trial_id,
        t.name,
        t.design,
        t.inclusion,
        t.inclusion_reason,
        t.status,
        EXISTS (SELECT 1 FROM analysis_rct_os AS x WHERE x.trial_id = t.trial_id) AS has_os_hr,
        EXISTS (SELECT 1 FROM analysis_rct_pfs AS x WHERE x.trial_id = t.trial_id) AS has_pfs_hr,
        EXISTS (SELECT 1 FROM analysis_rct_orr AS x WHERE x.trial_id = t.trial_id) AS has_orr_counts,
        EXISTS (SELECT 1 FROM analysis_rct_ae_g3 AS x WHERE x.trial_id = t.trial_id) AS has_ae_counts,
        EXISTS (SELECT 1 FROM analysis_single_arm_orr AS x WHERE x.trial_id = t.trial_id) AS has_response_counts,
        (SELECT count(*) FROM outcomes AS o WHERE o.trial_id = t.trial_id) AS outcomes_recorded
    FROM trials AS t
    WHERE t.inclusion <> 'excluded'
)
SELECT
    *,
    CASE design
        WHEN 'rct' THEN concat_ws(', ',
            CASE WHEN NOT has_os_hr THEN 'OS HR with CI' END,
            CASE WHEN NOT has_pfs_hr THEN 'PFS HR with CI' END,
            CASE WHEN NOT has_orr_counts THEN 'ORR counts per arm' END,
            CASE WHEN NOT has_ae_counts THEN 'grade >=3 TRAE counts per arm' END)
        ELSE concat_ws(', ', CASE WHEN NOT has_response_counts THEN 'responders / n' END)
    END AS missing
FROM has
ORDER BY design DESC, inclusion, name
