-- The screening decisions as of the session's revision: record, stage (ta: title and abstract, ft: full text), decision, reason, reviewer, time, role (independent or consensus), seconds spent, the trial a full-text inclusion reports; screened_as is the record whose screening the decision counts for (a duplicate's decision counts for the record it duplicates).
SELECT d.record_id, coalesce(r.screened_as, d.record_id) AS screened_as, d.stage, d.decision, d.reason, d.reviewer,
       d.decided_at, d.role, d.seconds, d.trial_id, d.note, d.source, d.file, d.valid_from AS revision
FROM history.screening_decisions AS d
LEFT JOIN search_records AS r ON r.record_id = d.record_id
WHERE visible_at(d.valid_from, d.valid_to)
