-- The result of analyses $2 (a list of ids; NULL: all) at revision $1: for each analysis, the rows
-- stored at the newest revision at or before $1 (a result is stored when it changes), each with the
-- trials its stratum pooled at $1 (history.pooled_trials), in the order the analysis pooled them:
-- first publication date (missing last), then trial id.
WITH latest AS (
    SELECT analysis_id, max(revision_id) AS revision_id
    FROM history.pooled_estimates
    WHERE revision_id <= $1 AND ($2 IS NULL OR list_contains($2, analysis_id))
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
SELECT p.*, coalesce(m.trials, []::VARCHAR[]) AS trials
FROM history.pooled_estimates AS p
JOIN latest USING (analysis_id, revision_id)
LEFT JOIN members AS m USING (analysis_id, stratum)
ORDER BY p.analysis_id, p.stratum
