-- 0000_migrations: the table that records which numbered migrations a database has applied.
-- Run (idempotently) before every other migration.
CREATE SCHEMA IF NOT EXISTS history;

CREATE TABLE IF NOT EXISTS history.schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        VARCHAR NOT NULL,
    sha256      VARCHAR NOT NULL,
    applied_at  TIMESTAMP NOT NULL
);
