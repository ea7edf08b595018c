-- Whether any of analyses $2 has results stored after revision $1.
SELECT EXISTS (SELECT 1 FROM history.pooled_estimates WHERE revision_id > $1 AND list_contains($2, analysis_id))
