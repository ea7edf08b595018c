-- The gaps section of the report: trials known to exist with an analysis input missing.
SELECT * FROM evidence_gaps
