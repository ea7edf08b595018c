-- The reviewers in conflict on a record ($1) at a stage ($2), in the current state.
SELECT reviewers FROM screening_status WHERE record_id = $1 AND stage = $2 AND status = 'conflict'
