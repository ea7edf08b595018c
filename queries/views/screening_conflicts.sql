-- Records whose independent screening decisions disagree at a stage, as of the session's revision, with each reviewer's decision: a consensus decision (`livemeta screen resolve`) settles them.
SELECT s.record_id, s.stage, s.reviewers, s.decided, r.title, r.year, r.source
FROM screening_status AS s
LEFT JOIN search_records AS r ON r.record_id = s.record_id
WHERE s.status = 'conflict'
ORDER BY s.stage, s.record_id
