-- Record an applied migration: (version, name, sha256, applied_at).
INSERT INTO history.schema_migrations VALUES (?, ?, ?, ?)
