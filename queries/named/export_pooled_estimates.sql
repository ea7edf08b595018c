-- The pooled estimates in force at revision $1 (analysis scale) of analyses $2 (the ids in force
-- then), for the data package: for each analysis, the rows stored at the newest revision at or
-- before $1 (a result is stored when it changes), each with the trials its stratum pooled at $1
-- (history.pooled_trials) in the order the analysis pooled them: first publication date (missing
-- last), then trial id.
WITH latest AS (
    SELECT analysis_id, max(revision_id) AS revision_id
    FROM history.pooled_estimates
    WHERE revision_id <= $1 AND list_contains($2, analysis_id)
    GROUP BY analysis_id
),
members AS (
    SELECT m.analysis_id, m.stratum,
           list(m.trial_id ORDER BY t.first_publication_date NULLS LAST, m.trial_id) AS trials
    FROM history.pooled_trials AS m
    JOIN latest USING (analysis_id)
    LEFT JOIN history.trials AS t
      ON t.trial_id = m.trial_id AND t.valid_from <= $1 AND (t.valid_to IS NULL OR t.valid_to > $1)
    WHERE m.valid_from <= $1 AND (m.valid_to IS NULL OR m.valid_to > $1)
    GROUP BY m.analysis_id, m.stratum
)
SELECT p.analysis_id, p.stratum, p.measure, p.scale, p.method, p.test, p.level, p.pi_dist, p.k,
       coalesce(m.trials, []::VARCHAR[]) AS trials, p.estimate, p.se, p.stat, p.p,
       p.ci_low, p.ci_high, p.pi_low, p.pi_high, p.tau2, p.i2, p.h2, p.q, p.q_df, p.q_p, p.converged,
       p.q_between, p.df_between, p.p_between, p.method_spec
FROM history.pooled_estimates AS p
JOIN latest USING (analysis_id, revision_id)
LEFT JOIN members AS m USING (analysis_id, stratum)
ORDER BY p.analysis_id, p.stratum = 'overall' DESC, p.stratum
