-- The overall row of every stored result (a result is stored at the revisions where it changed),
-- on the ratio scale, by analysis and revision: estimates at any revision from one read.
SELECT analysis_id, revision_id, measure, k, method, test, pi_dist,
       on_ratio_scale(estimate, scale) AS estimate,
       on_ratio_scale(ci_low, scale) AS ci_low,
       on_ratio_scale(ci_high, scale) AS ci_high,
       on_ratio_scale(pi_low, scale) AS pi_low,
       on_ratio_scale(pi_high, scale) AS pi_high,
       tau2, i2, p_between, monitoring_crossed
FROM history.pooled_estimates
WHERE stratum = 'overall'
ORDER BY analysis_id, revision_id
