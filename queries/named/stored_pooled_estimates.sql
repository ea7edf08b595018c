-- The pooled estimates stored at exactly one revision ($1) for a list of analysis ids ($2).
SELECT *
FROM history.pooled_estimates
WHERE revision_id = $1 AND list_contains($2, analysis_id)
ORDER BY analysis_id, stratum
