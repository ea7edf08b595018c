-- Single-arm trials' objective response: responders xi of ni per arm (whole arm, not subgroups), with its class.
SELECT
    o.trial_id,
    t.name AS trial,
    CASE WHEN (SELECT count(*) FROM arms AS x WHERE x.trial_id = o.trial_id) > 1
         THEN t.name || ': ' || a.regimen ELSE t.name END AS label,
    o.outcome_id,
    a.arm_id,
    o.experimental_events AS xi,
    o.experimental_n AS ni,
    a.regimen,
    a.treatment_class,
    t.first_published,
    t.first_publication_date,
    t.inclusion,
    o.verified,
    o.source_id,
    o.raw_text,
    rb.rob_overall,
    rb.rob_status
FROM outcomes AS o
JOIN trials AS t USING (trial_id)
JOIN arms AS a ON a.trial_id = o.trial_id AND a.arm_id = o.experimental_arm_id
LEFT JOIN analysis_risk_of_bias AS rb ON rb.trial_id = o.trial_id AND rb.outcome_id = o.outcome_id
WHERE t.design = 'single_arm'
  AND o.endpoint = 'orr' AND o.measure = 'proportion' AND o.population = 'overall'
  AND o.experimental_events IS NOT NULL AND o.experimental_n IS NOT NULL
