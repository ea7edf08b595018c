-- Pooled estimates on the ratio scale (HR, OR, RR; proportions back from logit), latest per analysis.
-- For each analysis, the results stored at the newest revision at or before the session's revision
-- (a result is stored when it changes); trials: those each stratum pooled, in the analysis's order;
-- monitoring_*: its sequential monitoring (secondary) where analyses.yaml asks for it, with the target,
-- the model of the z-curve, the heterogeneity adjustment and the over-run rule that made it.
WITH latest AS (
    SELECT analysis_id, max(revision_id) AS revision_id
    FROM history.pooled_estimates
    WHERE revision_id <= as_of_revision()
    GROUP BY analysis_id
),
members AS (
    SELECT m.analysis_id, m.stratum,
           list(m.trial_id ORDER BY t.first_publication_date NULLS LAST, m.trial_id) AS trials
    FROM history.pooled_trials AS m
    LEFT JOIN trials AS t USING (trial_id)
    WHERE visible_at(m.valid_from, m.valid_to)
    GROUP BY m.analysis_id, m.stratum
)
SELECT
    p.analysis_id,
    p.revision_id,
    p.stratum,
    p.measure,
    p.k,
    coalesce(m.trials, []::VARCHAR[]) AS trials,
    on_ratio_scale(p.estimate, p.scale) AS estimate,
    on_ratio_scale(p.ci_low, p.scale) AS ci_low,
    on_ratio_scale(p.ci_high, p.scale) AS ci_high,
    on_ratio_scale(p.pi_low, p.scale) AS pi_low,
    on_ratio_scale(p.pi_high, p.scale) AS pi_high,
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
    p.monitoring_spec,
    p.monitoring_target,
    p.monitoring_model,
    p.monitoring_heterogeneity,
    p.monitoring_overrun
FROM history.pooled_estimates AS p
JOIN latest USING (analysis_id, revision_id)
LEFT JOIN members AS m USING (analysis_id, stratum)
