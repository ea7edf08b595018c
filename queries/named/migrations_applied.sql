-- The applied migrations and the SHA-256 of their files when applied.
SELECT version, sha256 FROM history.schema_migrations
