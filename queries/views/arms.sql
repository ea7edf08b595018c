-- Arms of each trial: role, regimen as printed, PD-(L)1 agent, partners, treatment class, n.
SELECT * EXCLUDE (row_id)
FROM history.arms
WHERE visible_at(valid_from, valid_to)
