-- The revisions at which every analysis in force was computed (a result stored when it changed).
SELECT revision_id FROM history.pooled_revisions ORDER BY revision_id
