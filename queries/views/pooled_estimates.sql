-- Pooled estimates on the ratio scale (HR, OR, RR; proportions back from logit), latest per analysis.
-- For each analysis, the results stored at the newest revision at or before the session's revision;
-- monitoring_*: its sequential monitoring (secondary) where analyses.yaml asks for it.
WITH latest AS (
    SELECT analysis_id, max(revision_id) AS revision_id
    FROM history.pooled_estimates
    WHERE revision_id <= as_of_revision()
    GROUP BY analysis_id
)
SELECT
    p.analysis_id,
    p.revision_id,
    p.stratum,
    p.measure,
    p.k,
    p.trials,
    CASE p.scale WHEN 'log' THEN exp(p.estimate) WHEN 'logit' THEN 1 / (1 + exp(-p.estimate)) ELSE p.estimate END AS estimate,
    CASE p.scale WHEN 'log' THEN exp(p.ci_low) WHEN 'logit' THEN 1 / (1 + exp(-p.ci_low)) ELSE p.ci_low END AS ci_low,
    CASE p.scale WHEN 'log' THEN exp(p.ci_high) WHEN 'logit' THEN 1 / (1 + exp(-p.ci_high)) ELSE p.ci_high END AS ci_high,
    CASE p.scale WHEN 'log' THEN exp(p.pi_low) WHEN 'logit' THEN 1 / (1 + exp(-p.pi_low)) ELSE p.pi_low END AS pi_low,
    CASE p.scale WHEN 'log' THEN exp(p.pi_high) WHEN 'logit' THEN 1 / (1 + exp(-p.pi_high)) ELSE p.pi_high END AS pi_high,
    p.p,
    p.tau2,
    p.i2,
    p.q,
    p.q_df,
    p.q_p,
    p.q_between,
    p.df_between,
    p.p_between,
    p.method,
    p.test,
    p.estimate AS log_estimate,
    p.se,
    p.scale,
    p.converged,
    p.message,
    p.method_spec,
    p.monitoring_crossed,
    p.monitoring_z,
    p.monitoring_bound,
    p.monitoring_fraction,
    p.monitoring_spec
FROM history.pooled_estimates AS p
JOIN latest USING (analysis_id, revision_id)
