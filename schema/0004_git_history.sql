-- 0004_git_history: the revision history comes from git; the database is a cache rebuilt from it.
--
-- Every revision is one commit of the project's git history that changed its study files or its
-- analyses file (`livemeta build` replays them in order). history.commits records each commit the
-- replay read, in its linear order, with the revision in force after it: a commit that changed
-- only the project file (e.g. named a version) makes no revision of its own.

CREATE TABLE history.commits (
    seq              INTEGER PRIMARY KEY,              -- position in the linear history, from 1
    commit_sha       VARCHAR NOT NULL UNIQUE,
    revision_id      INTEGER NOT NULL REFERENCES history.revisions (revision_id),
    makes_revision   BOOLEAN NOT NULL,
    -- applied: its changes are in the tables; rejected: they failed validation when replayed
    -- (revision_problems says why) and were not applied; unchanged: no change to the evidence or
    -- the analyses (e.g. it only named a version)
    status           VARCHAR NOT NULL CHECK (status IN ('applied', 'rejected', 'unchanged')),
    author_email     VARCHAR,
    analyses_sha256  VARCHAR                            -- the analyses file in force after it
);

-- Why a replayed commit was rejected: one row per problem, as `livemeta validate` reports it.
CREATE TABLE history.revision_problems (
    revision_id  INTEGER NOT NULL REFERENCES history.revisions (revision_id),
    problem_no   INTEGER NOT NULL,                      -- 1, 2, ... in the order validate reports them
    file         VARCHAR NOT NULL,
    path         VARCHAR,
    reason       VARCHAR NOT NULL,
    PRIMARY KEY (revision_id, problem_no)
);

-- The text of every analyses file a revision used (by content hash), so that a database answers
-- `pool --as-of` with the analyses of that revision, without the repository.
CREATE TABLE history.analysis_files (
    sha256  VARCHAR PRIMARY KEY,
    text    VARCHAR NOT NULL
);

-- Named versions of the evidence (the project file's `versions`): the revision in force at the
-- commit that added the name.
CREATE TABLE history.versions (
    name         VARCHAR PRIMARY KEY,
    revision_id  INTEGER NOT NULL REFERENCES history.revisions (revision_id),
    commit_sha   VARCHAR NOT NULL,
    description  VARCHAR
);

-- revision_files gains the action 'removed' (a study file deleted from the project closes its
-- trial's rows). DuckDB cannot alter a CHECK constraint: the table is recreated.
CREATE TABLE history.revision_files_new (
    revision_id  INTEGER NOT NULL REFERENCES history.revisions (revision_id),
    path         VARCHAR NOT NULL,
    sha256       VARCHAR NOT NULL,
    trial_id     VARCHAR NOT NULL,
    action       VARCHAR NOT NULL CHECK (action IN ('added', 'superseded', 'removed')),
    PRIMARY KEY (revision_id, trial_id)
);
INSERT INTO history.revision_files_new SELECT revision_id, path, sha256, trial_id, action FROM history.revision_files;
DROP TABLE history.revision_files;
ALTER TABLE history.revision_files_new RENAME TO revision_files;
