-- Replace the stored results of the analyses in `new_pooled_estimates` (a registered DataFrame)
-- at their revisions: recomputing an analysis at a revision overwrites its earlier rows there.
DELETE FROM history.pooled_estimates AS p
WHERE EXISTS (
    SELECT 1 FROM new_pooled_estimates AS n
    WHERE n.analysis_id = p.analysis_id AND n.revision_id = p.revision_id
);
INSERT INTO history.pooled_estimates BY NAME
SELECT * REPLACE (CAST(trials AS VARCHAR[]) AS trials) FROM new_pooled_estimates;
