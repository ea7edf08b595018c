-- Record why a replayed commit was rejected: (revision_id, problem_no, file, path, reason).
INSERT INTO history.revision_problems VALUES (?, ?, ?, ?, ?)
