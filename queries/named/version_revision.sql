-- The revision a named version stands for ($1: its name).
SELECT revision_id FROM history.versions WHERE name = $1
