-- What the fresh replay (attached as `fresh`) holds: revisions, evidence rows of every version,
-- and stored pooled estimates.
SELECT
    (SELECT count(*) FROM fresh.history.revisions) AS revisions,
    (SELECT count(*) FROM fresh.history.trials) + (SELECT count(*) FROM fresh.history.sources)
        + (SELECT count(*) FROM fresh.history.arms) + (SELECT count(*) FROM fresh.history.resistance_definitions)
        + (SELECT count(*) FROM fresh.history.outcomes) + (SELECT count(*) FROM fresh.history.adverse_events) AS rows,
    (SELECT count(*) FROM fresh.history.pooled_estimates) AS estimates
