-- The pooled estimates stored at exactly revision $1 (analysis scale), for the data package.
SELECT analysis_id, stratum, measure, scale, method, test, level, pi_dist, k, trials, estimate, se, stat, p,
       ci_low, ci_high, pi_low, pi_high, tau2, i2, h2, q, q_df, q_p, converged, q_between, df_between, p_between,
       method_spec
FROM history.pooled_estimates
WHERE revision_id = $1
ORDER BY analysis_id, stratum = 'overall' DESC, stratum
