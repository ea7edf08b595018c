-- RCT objective response as 2x2 counts per trial (ai/n1i responders/n experimental, ci/n2i control).
-- The counts are what is pooled, whatever measure the trial printed beside them (a proportion per
-- arm, an odds ratio or a risk ratio): every ORR row with responders of n in both arms is read.
SELECT
    o.trial_id,
    t.name AS trial,
    t.name AS label,
    o.outcome_id,
    o.experimental_events AS ai,
    o.experimental_n - o.experimental_events AS bi,
    o.control_events AS ci,
    o.control_n - o.control_events AS di,
    o.experimental_n AS n1i,
    o.control_n AS n2i,
    o.assessment,
    e.treatment_class,
    c.control_type,
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
JOIN rct_comparisons AS k
  ON k.trial_id = o.trial_id AND k.experimental_arm_id = o.experimental_arm_id AND k.control_arm_id = o.control_arm_id
JOIN arms AS e ON e.trial_id = o.trial_id AND e.arm_id = o.experimental_arm_id
JOIN arms AS c ON c.trial_id = o.trial_id AND c.arm_id = o.control_arm_id
LEFT JOIN analysis_risk_of_bias AS rb ON rb.trial_id = o.trial_id AND rb.outcome_id = o.outcome_id
WHERE t.design = 'rct'
  AND o.endpoint = 'orr' AND o.measure IN ('proportion', 'OR', 'RR') AND o.population = 'overall'
  AND o.experimental_events IS NOT NULL AND o.experimental_n IS NOT NULL
  AND o.control_events IS NOT NULL AND o.control_n IS NOT NULL
