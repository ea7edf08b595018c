-- Record a file a revision read: (revision_id, path, sha256, trial_id, action).
INSERT INTO history.revision_files VALUES (?, ?, ?, ?, ?)
