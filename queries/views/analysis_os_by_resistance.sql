-- RCT OS by resistance category (primary / acquired), by the review's rule, with the basis of each row.
-- The rule: a trial-reported subgroup or cohort tied to a resistance definition of category primary
-- or acquired is used where one exists (basis 'reported subgroup'); otherwise, when the trial's own
-- eligibility required features of acquired resistance (a scope = 'trial' definition of category
-- acquired: a minimum prior exposure or prior benefit), its whole-trial OS stands for the acquired
-- category (basis 'eligibility', mapped = true). A trial contributes at most one row per category.
WITH reported AS (
    SELECT h.*, d.category AS resistance_category, 'reported subgroup' AS basis, false AS mapped,
           d.criterion_kind, d.definition AS resistance_definition
    FROM analysis_rct_hr AS h
    JOIN resistance_definitions AS d ON d.trial_id = h.trial_id AND d.definition_id = h.definition_id
    WHERE h.endpoint = 'os' AND h.population = 'resistance' AND d.category IN ('primary', 'acquired')
),
eligibility AS (
    SELECT h.*, 'acquired' AS resistance_category, 'eligibility' AS basis, true AS mapped,
           d.criterion_kind, d.definition AS resistance_definition
    FROM analysis_rct_os AS h
    JOIN resistance_definitions AS d ON d.trial_id = h.trial_id AND d.scope = 'trial' AND d.category = 'acquired'
    WHERE NOT EXISTS (
        SELECT 1 FROM reported AS r WHERE r.trial_id = h.trial_id AND r.resistance_category = 'acquired'
    )
)
SELECT * FROM reported
UNION ALL BY NAME
SELECT * FROM eligibility
-- one row per trial and category (a second subgroup of the same category, e.g. two definitions of
-- acquired resistance in one trial, would count its patients twice): the first definition id wins
QUALIFY row_number() OVER (PARTITION BY trial_id, resistance_category ORDER BY basis DESC, definition_id) = 1
