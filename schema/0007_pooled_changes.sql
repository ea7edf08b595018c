-- 0007_pooled_changes: pooled estimates are stored when they change, and the trials behind them
-- as validity ranges, so that a revision stores what it changed, not the whole base again.
--
-- history.pooled_estimates keeps one group of rows (overall + strata) per analysis at each revision
-- where the analysis's result differs from the group stored before it (all columns but revision_id,
-- computed_at and livemeta_version); the result of an analysis at revision N is the group stored at
-- the newest revision at or before N (the `pooled_estimates` view reads it so).
--
-- history.pooled_trials holds which trials each stratum pooled, like the evidence rows: a row from
-- the revision a trial entered the stratum (valid_from) to the revision it left (valid_to, NULL
-- while in). A stratum's trial list at revision N is its rows visible at N, in the order the
-- analysis pooled them (first publication date, then trial id).
--
-- history.pooled_revisions records each revision at which every analysis in force was computed:
-- `analyses` in force, of which `stored` changed and were stored. A revision not listed (a database
-- written before every revision was pooled) has no stored result of its own.
CREATE TABLE history.pooled_trials (
    analysis_id  VARCHAR NOT NULL,
    stratum      VARCHAR NOT NULL,
    trial_id     VARCHAR NOT NULL,
    valid_from   INTEGER NOT NULL REFERENCES history.revisions (revision_id),
    valid_to     INTEGER,
    PRIMARY KEY (analysis_id, stratum, trial_id, valid_from)
);

CREATE TABLE history.pooled_revisions (
    revision_id  INTEGER PRIMARY KEY REFERENCES history.revisions (revision_id),
    analyses     INTEGER NOT NULL,
    stored       INTEGER NOT NULL
);

-- Existing rows (every analysis stored at every pooled revision, with its trial list) are kept
-- where they changed, and their lists become validity ranges: the result a replay stores now.
-- a group is kept when its rows (every column but the revision and the bookkeeping) differ from
-- those of the group stored before it
CREATE TEMP TABLE livemeta_kept AS
WITH groups AS (
    SELECT analysis_id, revision_id,
           lag(revision_id) OVER (PARTITION BY analysis_id ORDER BY revision_id) AS prev
    FROM (SELECT DISTINCT analysis_id, revision_id FROM history.pooled_estimates)
)
SELECT g.analysis_id, g.revision_id, row_number() OVER (PARTITION BY g.analysis_id ORDER BY g.revision_id) AS j
FROM groups AS g
WHERE g.prev IS NULL OR EXISTS (
    (SELECT * EXCLUDE (revision_id, computed_at, livemeta_version) FROM history.pooled_estimates AS p
     WHERE p.analysis_id = g.analysis_id AND p.revision_id = g.revision_id
     EXCEPT ALL
     SELECT * EXCLUDE (revision_id, computed_at, livemeta_version) FROM history.pooled_estimates AS p
     WHERE p.analysis_id = g.analysis_id AND p.revision_id = g.prev)
    UNION ALL
    (SELECT * EXCLUDE (revision_id, computed_at, livemeta_version) FROM history.pooled_estimates AS p
     WHERE p.analysis_id = g.analysis_id AND p.revision_id = g.prev
     EXCEPT ALL
     SELECT * EXCLUDE (revision_id, computed_at, livemeta_version) FROM history.pooled_estimates AS p
     WHERE p.analysis_id = g.analysis_id AND p.revision_id = g.revision_id)
);

INSERT INTO history.pooled_revisions
SELECT p.revision_id, count(DISTINCT p.analysis_id), count(DISTINCT k.analysis_id)
FROM history.pooled_estimates AS p
LEFT JOIN livemeta_kept AS k ON k.analysis_id = p.analysis_id AND k.revision_id = p.revision_id
GROUP BY p.revision_id;

-- each (analysis, stratum, trial): present or not at each kept group of its analysis; runs of
-- presence become validity ranges, closed at the next kept group without it
CREATE TEMP TABLE livemeta_members AS
SELECT p.analysis_id, p.stratum, unnest(p.trials) AS trial_id, k.j
FROM history.pooled_estimates AS p
JOIN livemeta_kept AS k USING (analysis_id, revision_id);

INSERT INTO history.pooled_trials
WITH runs AS (
    SELECT analysis_id, stratum, trial_id, j, j - row_number() OVER (PARTITION BY analysis_id, stratum, trial_id ORDER BY j) AS run
    FROM (SELECT DISTINCT * FROM livemeta_members)
),
ranges AS (
    SELECT analysis_id, stratum, trial_id, min(j) AS first_j, max(j) AS last_j
    FROM runs
    GROUP BY analysis_id, stratum, trial_id, run
)
SELECT r.analysis_id, r.stratum, r.trial_id, f.revision_id AS valid_from, t.revision_id AS valid_to
FROM ranges AS r
JOIN livemeta_kept AS f ON f.analysis_id = r.analysis_id AND f.j = r.first_j
LEFT JOIN livemeta_kept AS t ON t.analysis_id = r.analysis_id AND t.j = r.last_j + 1;

DELETE FROM history.pooled_estimates AS p
WHERE NOT EXISTS (SELECT 1 FROM livemeta_kept AS k WHERE k.analysis_id = p.analysis_id AND k.revision_id = p.revision_id);

ALTER TABLE history.pooled_estimates DROP COLUMN trials;

DROP TABLE livemeta_members;
DROP TABLE livemeta_kept;
