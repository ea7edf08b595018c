-- Every search record as of the session's revision with where it stands in the PRISMA 2020 flow: duplicate (removed before screening), ta_pending, ta_excluded, ft_pending (sought, no final full-text decision), not_retrieved, ft_excluded (with its reason) or included (with the trial it reports); one row per record, the run's source and the revision the run was added.
WITH ta AS (SELECT * FROM screening_status WHERE stage = 'ta'),
     ft AS (SELECT * FROM screening_status WHERE stage = 'ft')
SELECT r.record_id, r.run_id, r.source, s.added_in_revision, r.duplicate_of, r.duplicate_reason,
       ta.final_decision AS ta_decision, ta.status AS ta_status, ft.final_decision AS ft_decision, ft.status AS ft_status,
       CASE WHEN r.duplicate_of IS NOT NULL THEN 'duplicate'
            WHEN ft.final_decision = 'include' THEN 'included'
            WHEN ft.final_decision = 'exclude' AND ft.final_reason = 'not_retrieved' THEN 'not_retrieved'
            WHEN ft.final_decision = 'exclude' THEN 'ft_excluded'
            WHEN ft.record_id IS NOT NULL OR ta.final_decision IN ('include', 'maybe') THEN 'ft_pending'
            WHEN ta.final_decision = 'exclude' THEN 'ta_excluded'
            ELSE 'ta_pending' END AS flow,
       CASE WHEN r.duplicate_of IS NULL AND ft.final_decision = 'exclude' THEN ft.final_reason END AS ft_reason,
       CASE WHEN r.duplicate_of IS NULL AND ft.final_decision = 'include'
            THEN coalesce(ft.trial_id, CASE WHEN len(r.trials) = 1 THEN r.trials[1] END) END AS trial_id
FROM search_records AS r
JOIN searches AS s ON s.run_id = r.run_id
LEFT JOIN ta ON ta.record_id = r.record_id
LEFT JOIN ft ON ft.record_id = r.record_id
