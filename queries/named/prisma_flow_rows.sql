-- The records of the search runs added after revision $1 (and up to the session's revision), as of
-- the session's revision, with where each stands in the PRISMA flow (screening_flow).
SELECT run_id, source, flow, ft_reason, trial_id, record_id
FROM screening_flow
WHERE added_in_revision > $1
ORDER BY added_in_revision, run_id, record_id
