-- The rows of analysis view "{view}" (as of the session's revision) of the trials in $1 (a list of ids).
SELECT * FROM "{view}" WHERE list_contains($1::VARCHAR[], trial_id)
