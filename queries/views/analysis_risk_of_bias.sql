-- The risk-of-bias judgement each analysis row carries, defined once: per outcome and adverse event.
-- For every outcome of a trial (outcome_id) the judgement in force for its own endpoint, and for every
-- adverse event (ae_id) the judgement in force for 'safety' (risk_of_bias_in_force): rob_overall and
-- rob_status, NULL when the trial's endpoint is not assessed. One row per outcome or adverse event
-- (the other id NULL): the analysis views join it on (trial_id, outcome_id) or (trial_id, ae_id), so
-- a trial judged for several endpoints still gives each of its rows one judgement, its endpoint's.
SELECT o.trial_id, o.outcome_id, NULL::VARCHAR AS ae_id, o.endpoint,
       rb.overall_judgement AS rob_overall, rb.status AS rob_status
FROM outcomes AS o
LEFT JOIN risk_of_bias_in_force AS rb ON rb.trial_id = o.trial_id AND rb.endpoint = o.endpoint
UNION ALL
SELECT a.trial_id, NULL::VARCHAR AS outcome_id, a.ae_id, 'safety' AS endpoint,
       rb.overall_judgement AS rob_overall, rb.status AS rob_status
FROM adverse_events AS a
LEFT JOIN risk_of_bias_in_force AS rb ON rb.trial_id = a.trial_id AND rb.endpoint = 'safety'
