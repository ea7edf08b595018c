-- Domains where the two assessors of a trial's outcome disagree, with the consensus where recorded.
SELECT r1.trial_id, r1.trial, r1.endpoint, r1.tool, r1.domain, r1.domain_name,
       r1.judgement AS reviewer_1, r1.assessor AS reviewer_1_assessor,
       r2.judgement AS reviewer_2, r2.assessor AS reviewer_2_assessor,
       c.judgement AS consensus, c.support AS consensus_support
FROM risk_of_bias AS r1
JOIN risk_of_bias AS r2
  ON r2.trial_id = r1.trial_id AND r2.endpoint = r1.endpoint AND r2.domain = r1.domain AND r2.role = 'reviewer_2'
LEFT JOIN risk_of_bias AS c
  ON c.trial_id = r1.trial_id AND c.endpoint = r1.endpoint AND c.domain = r1.domain AND c.role = 'consensus'
WHERE r1.role = 'reviewer_1' AND r1.judgement <> r2.judgement
ORDER BY r1.trial, r1.endpoint, r1.domain_no
