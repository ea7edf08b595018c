-- What de-duplication decided as of the session's revision: each record that is a duplicate of another record or of a report already in the database, reports of a trial (same_trial), and pairs kept apart, with the reason (doi, pmid, nct_id, title, manual) and its detail.
SELECT l.record_id, l.target_kind, l.target, l.relation, l.status, l.reason, l.detail, l.score, l.decided_by,
       l.valid_from AS revision
FROM history.record_links AS l
WHERE visible_at(l.valid_from, l.valid_to)
