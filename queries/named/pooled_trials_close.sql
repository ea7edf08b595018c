-- Trials that left a stratum of an analysis: the open rows of `pooled_trials_changes` (a
-- registered DataFrame of analysis_id, stratum, trial_id) are closed at revision $1.
UPDATE history.pooled_trials AS m
SET valid_to = $1
FROM pooled_trials_changes AS c
WHERE m.analysis_id = c.analysis_id AND m.stratum = c.stratum AND m.trial_id = c.trial_id
  AND m.valid_to IS NULL
