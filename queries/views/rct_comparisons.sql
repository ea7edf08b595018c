-- The randomised comparison (experimental arm vs control arm) each RCT's whole-trial analyses use.
-- An arm pair named by an overall outcome of the trial; failing that, the trial's only experimental
-- arm against its only control arm. A third arm (KEYVIBE-002's V/P alone, LEAP-008's lenvatinib
-- alone) therefore never brings the shared control into an analysis twice.
WITH named AS (
    SELECT DISTINCT trial_id, experimental_arm_id, control_arm_id
    FROM outcomes
    WHERE population = 'overall' AND control_arm_id IS NOT NULL
),
sole AS (
    SELECT e.trial_id, e.arm_id AS experimental_arm_id, c.arm_id AS control_arm_id
    FROM arms AS e
    JOIN arms AS c ON c.trial_id = e.trial_id AND c.role = 'control'
    WHERE e.role = 'experimental'
      AND (SELECT count(*) FROM arms AS x WHERE x.trial_id = e.trial_id AND x.role = 'experimental') = 1
      AND (SELECT count(*) FROM arms AS x WHERE x.trial_id = e.trial_id AND x.role = 'control') = 1
)
SELECT * FROM named
UNION
SELECT * FROM sole WHERE trial_id NOT IN (SELECT trial_id FROM named)
