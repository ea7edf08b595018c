-- 0009_monitoring_rule: the rule and model behind each stored sequential monitoring (issue 23).
--
-- On the 'overall' row of an analysis with `monitoring:` in the analyses file (NULL elsewhere):
-- monitoring_target        the target effect on the ratio scale (e.g. HR 0.80)
-- monitoring_model         the model of the cumulative estimate and z: the random-effects estimator
--                          the heterogeneity adjustment assumes ('DL', ...) or 'FE' without adjustment
-- monitoring_heterogeneity the adjustment of the required information: 'D2 (DL)', 'I2 (DL)',
--                          'fixed 0.25' or 'none' (its value is in monitoring_spec)
-- monitoring_overrun       looks at or past the required information: 'alpha_preserving' (the first is
--                          the final analysis, with what is left of alpha; Jennison & Turnbull 2000,
--                          sec. 7.2.2) or 'final_boundary' (the boundary planned at the required
--                          information reused at every later look: the TSA software's convention)
--
-- Rows stored before this migration get the values their monitoring_spec records; the over-run rule,
-- which it did not record then, is the only one livemeta had: the final boundary reused.
ALTER TABLE history.pooled_estimates ADD COLUMN monitoring_target DOUBLE;
ALTER TABLE history.pooled_estimates ADD COLUMN monitoring_model VARCHAR;
ALTER TABLE history.pooled_estimates ADD COLUMN monitoring_heterogeneity VARCHAR;
ALTER TABLE history.pooled_estimates ADD COLUMN monitoring_overrun VARCHAR;

UPDATE history.pooled_estimates
SET monitoring_target = CAST(json_extract(monitoring_spec, '$.target') AS DOUBLE),
    monitoring_model = json_extract_string(monitoring_spec, '$.model'),
    monitoring_heterogeneity = json_extract_string(monitoring_spec, '$.heterogeneity'),
    monitoring_overrun = coalesce(json_extract_string(monitoring_spec, '$.overrun'), 'final_boundary')
WHERE monitoring_spec IS NOT NULL;
