-- 0003_trial_source: the source of a trial's own facts (randomised n, first publication, status),
-- so that every number in a study file carries its source.
ALTER TABLE history.trials ADD COLUMN source_id VARCHAR;
