-- 0010_search_screening: the front half of the living review, as rows of the history.
--
-- Search runs (searches/RUN/ in the project), their records, the links de-duplication makes
-- between records and to trials, and screening decisions (screening/) are replayed from git like
-- study files: every row has the revision that added it (valid_from) and the one that closed it
-- (valid_to, NULL while in force), so `--as-of` reads them as they were.

-- One row per version of a search run (searches/RUN/search.yaml).
CREATE TABLE history.searches (
    run_id       VARCHAR NOT NULL,
    valid_from   INTEGER NOT NULL REFERENCES history.revisions (revision_id),
    valid_to     INTEGER,
    source       VARCHAR NOT NULL,            -- the database or register searched
    query        VARCHAR NOT NULL,            -- the query as run
    searched_on  DATE NOT NULL,
    records      INTEGER NOT NULL CHECK (records > 0),
    files        VARCHAR NOT NULL,            -- the export files: JSON list of {name, format, sha256, records}
    note         VARCHAR,
    path         VARCHAR NOT NULL,            -- the run's folder in the project
    sha256       VARCHAR NOT NULL,            -- of search.yaml and records.jsonl
    PRIMARY KEY (run_id, valid_from)
);

-- One row per version of a record (searches/RUN/records.jsonl, one line each).
CREATE TABLE history.search_records (
    record_id    VARCHAR NOT NULL,            -- RUN/N
    valid_from   INTEGER NOT NULL REFERENCES history.revisions (revision_id),
    valid_to     INTEGER,
    run_id       VARCHAR NOT NULL,
    n            INTEGER NOT NULL CHECK (n > 0),
    title        VARCHAR,
    abstract     VARCHAR,
    authors      VARCHAR[],
    year         INTEGER,
    journal      VARCHAR,
    doi          VARCHAR,
    pmid         VARCHAR,
    nct_ids      VARCHAR[],
    keywords     VARCHAR[],
    kind         VARCHAR,
    accession    VARCHAR,
    urls         VARCHAR[],
    export_file  VARCHAR,
    export_line  INTEGER,
    PRIMARY KEY (record_id, valid_from)
);

-- What de-duplication decided, recomputed whenever the records, the trials' identifiers or
-- searches/duplicates.yaml change: a record is a duplicate of another record or of a report
-- already in the database (merged), a report of a trial (same_trial), or a pair a person (or an
-- identifier shared by unlike titles) kept apart.
CREATE TABLE history.record_links (
    record_id    VARCHAR NOT NULL,
    valid_from   INTEGER NOT NULL REFERENCES history.revisions (revision_id),
    valid_to     INTEGER,
    target_kind  VARCHAR NOT NULL CHECK (target_kind IN ('record', 'trial')),
    target       VARCHAR NOT NULL,
    relation     VARCHAR NOT NULL CHECK (relation IN ('duplicate', 'same_trial')),
    status       VARCHAR NOT NULL CHECK (status IN ('merged', 'kept_apart')),
    reason       VARCHAR NOT NULL CHECK (reason IN ('doi', 'pmid', 'nct_id', 'title', 'manual')),
    detail       VARCHAR NOT NULL,
    score        DOUBLE,
    decided_by   VARCHAR,
    PRIMARY KEY (record_id, target, relation, status, valid_from)
);

-- A person's de-duplication decisions (searches/duplicates.yaml): a pair merged, or kept apart
-- (a merge reversed), with the reason and who decided.
CREATE TABLE history.duplicate_overrides (
    action       VARCHAR NOT NULL CHECK (action IN ('merge', 'keep_apart')),
    record_a     VARCHAR NOT NULL,
    record_b     VARCHAR NOT NULL,
    valid_from   INTEGER NOT NULL REFERENCES history.revisions (revision_id),
    valid_to     INTEGER,
    reason       VARCHAR NOT NULL,
    decided_by   VARCHAR,
    PRIMARY KEY (action, record_a, record_b, valid_from)
);

-- The screening protocol in force (screening/protocol.yaml): independent reviewers per record at
-- each stage, and the controlled list of exclusion reasons.
CREATE TABLE history.screening_protocol (
    stage        VARCHAR NOT NULL CHECK (stage IN ('ta', 'ft')),
    valid_from   INTEGER NOT NULL REFERENCES history.revisions (revision_id),
    valid_to     INTEGER,
    reviewers    INTEGER NOT NULL CHECK (reviewers BETWEEN 1 AND 5),
    PRIMARY KEY (stage, valid_from)
);

CREATE TABLE history.exclusion_reasons (
    reason_id    VARCHAR NOT NULL,
    valid_from   INTEGER NOT NULL REFERENCES history.revisions (revision_id),
    valid_to     INTEGER,
    label        VARCHAR NOT NULL,
    PRIMARY KEY (reason_id, valid_from)
);

-- Screening decisions (screening/decisions/*.csv, one line each): who decided what about a record
-- at which stage, and when. `independent` decisions are the reviewers' own; a `consensus`
-- decision settles the record (a conflict resolved by a third decision, or a team's final list).
CREATE TABLE history.screening_decisions (
    record_id    VARCHAR NOT NULL,
    stage        VARCHAR NOT NULL CHECK (stage IN ('ta', 'ft')),
    reviewer     VARCHAR NOT NULL,
    decided_at   TIMESTAMP NOT NULL,
    valid_from   INTEGER NOT NULL REFERENCES history.revisions (revision_id),
    valid_to     INTEGER,
    decision     VARCHAR NOT NULL CHECK (decision IN ('include', 'exclude', 'maybe')),
    reason       VARCHAR,
    role         VARCHAR NOT NULL CHECK (role IN ('independent', 'consensus')),
    seconds      DOUBLE CHECK (seconds >= 0),
    trial_id     VARCHAR,
    note         VARCHAR,
    source       VARCHAR NOT NULL,            -- livemeta, or the export it was imported from
    file         VARCHAR NOT NULL,
    PRIMARY KEY (record_id, stage, reviewer, decided_at, role, valid_from)
);
