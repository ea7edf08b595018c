-- Trials that entered a stratum of an analysis: `pooled_trials_changes` (a registered DataFrame of
-- analysis_id, stratum, trial_id) from revision $1.
INSERT INTO history.pooled_trials BY NAME
SELECT analysis_id, stratum, trial_id, $1 AS valid_from, NULL::INTEGER AS valid_to
FROM pooled_trials_changes
