-- Name a version: (name, revision_id, commit_sha, description).
INSERT INTO history.versions VALUES (?, ?, ?, ?)
