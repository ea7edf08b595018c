-- The current version of every trial: its NCT id and the revision that added this version.
SELECT trial_id, nct_id, valid_from
FROM history.trials
WHERE valid_to IS NULL
ORDER BY trial_id
