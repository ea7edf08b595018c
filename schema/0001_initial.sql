-- 0001_initial: the evidence tables, revisions and migration bookkeeping.
--
-- Layout
--   history.*  the physical, append-only tables. Every evidence row carries the revision that
--              added it (valid_from) and the revision that superseded it (valid_to, NULL while
--              current). Values are never changed after insert; the only write to an existing row
--              is setting valid_to once, when a correction or a new data cut of its trial arrives.
--   main.*     views over history.* (queries/*.sql) showing the state as of the revision in the
--              session variable `livemeta_as_of` (unset = the current state).
--
-- Local ids (arm_id, source_id, definition_id, outcome_id, ae_id) are the ids written in the study
-- file; they are unique within one version of one trial. row_id is unique across all versions.

CREATE SCHEMA IF NOT EXISTS history;

CREATE SEQUENCE IF NOT EXISTS history.row_id_seq START 1;

CREATE TABLE history.revisions (
    revision_id       INTEGER PRIMARY KEY,
    created_at        TIMESTAMP NOT NULL,
    author            VARCHAR NOT NULL,
    message           VARCHAR NOT NULL,
    kind              VARCHAR NOT NULL CHECK (kind IN ('build', 'ingest')),
    livemeta_version  VARCHAR NOT NULL
);

-- One row per study file read by a revision: what was added or superseded, with the file's hash.
CREATE TABLE history.revision_files (
    revision_id  INTEGER NOT NULL REFERENCES history.revisions (revision_id),
    path         VARCHAR NOT NULL,
    sha256       VARCHAR NOT NULL,
    trial_id     VARCHAR NOT NULL,
    action       VARCHAR NOT NULL CHECK (action IN ('added', 'superseded')),
    PRIMARY KEY (revision_id, trial_id)
);

CREATE TABLE history.trials (
    row_id                       BIGINT PRIMARY KEY DEFAULT nextval('history.row_id_seq'),
    valid_from                   INTEGER NOT NULL REFERENCES history.revisions (revision_id),
    valid_to                     INTEGER,
    trial_id                     VARCHAR NOT NULL,
    name                         VARCHAR NOT NULL,
    nct_id                       VARCHAR,
    other_ids                    VARCHAR,
    design                       VARCHAR NOT NULL CHECK (design IN ('rct', 'single_arm')),
    phase                        VARCHAR,
    randomised_n                 INTEGER CHECK (randomised_n >= 0),
    first_published              VARCHAR,
    first_publication_date       DATE,
    first_publication_precision  VARCHAR CHECK (first_publication_precision IN ('year', 'month', 'day')),
    status                       VARCHAR NOT NULL CHECK (status IN ('completed', 'terminated', 'ongoing', 'recruiting', 'not_yet_reported', 'unknown')),
    inclusion                    VARCHAR NOT NULL CHECK (inclusion IN ('included', 'candidate', 'excluded', 'after_review')),
    inclusion_reason             VARCHAR,
    population                   VARCHAR,
    verified                     BOOLEAN NOT NULL,
    note                         VARCHAR
);

CREATE TABLE history.sources (
    row_id      BIGINT PRIMARY KEY DEFAULT nextval('history.row_id_seq'),
    valid_from  INTEGER NOT NULL REFERENCES history.revisions (revision_id),
    valid_to    INTEGER,
    trial_id    VARCHAR NOT NULL,
    source_id   VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL CHECK (kind IN ('journal_article', 'congress_abstract', 'registry_record',
                                                 'press_release', 'news_report', 'presentation', 'other')),
    citation    VARCHAR NOT NULL,
    year        INTEGER,
    doi         VARCHAR,
    pmid        VARCHAR,
    nct_id      VARCHAR,
    url         VARCHAR,
    note        VARCHAR
);

CREATE TABLE history.arms (
    row_id           BIGINT PRIMARY KEY DEFAULT nextval('history.row_id_seq'),
    valid_from       INTEGER NOT NULL REFERENCES history.revisions (revision_id),
    valid_to         INTEGER,
    trial_id         VARCHAR NOT NULL,
    arm_id           VARCHAR NOT NULL,
    role             VARCHAR NOT NULL CHECK (role IN ('experimental', 'control', 'single')),
    regimen          VARCHAR NOT NULL,
    pd1_agent        VARCHAR,
    partners         VARCHAR[],
    treatment_class  VARCHAR NOT NULL CHECK (treatment_class IN ('chemotherapy', 'antiangiogenic', 'multitarget_tki',
                         'dual_checkpoint', 'bispecific', 'adc', 'vaccine', 'epigenetic', 'investigational_io',
                         'other', 'none')),
    control_type     VARCHAR CHECK (control_type IN ('docetaxel', 'docetaxel_ramucirumab', 'investigator_choice',
                                                     'placebo_docetaxel', 'other')),
    n_randomised     INTEGER CHECK (n_randomised >= 0),
    n_safety         INTEGER CHECK (n_safety >= 0),
    source_id        VARCHAR,
    verified         BOOLEAN NOT NULL,
    note             VARCHAR
);

CREATE TABLE history.resistance_definitions (
    row_id          BIGINT PRIMARY KEY DEFAULT nextval('history.row_id_seq'),
    valid_from      INTEGER NOT NULL REFERENCES history.revisions (revision_id),
    valid_to        INTEGER,
    trial_id        VARCHAR NOT NULL,
    definition_id   VARCHAR NOT NULL,
    -- trial: the eligibility of the whole trial; subgroup / cohort: a population within it;
    -- stratification: a stratification factor (no outcome of its own is implied).
    scope           VARCHAR NOT NULL CHECK (scope IN ('trial', 'subgroup', 'cohort', 'stratification')),
    population      VARCHAR NOT NULL,
    category        VARCHAR NOT NULL CHECK (category IN ('primary', 'acquired', 'mixed', 'unselected')),
    criterion_kind  VARCHAR NOT NULL CHECK (criterion_kind IN ('prior_io_duration', 'best_response',
                        'time_to_progression', 'treatment_free_interval', 'eligibility')),
    threshold       DOUBLE,
    threshold_unit  VARCHAR CHECK (threshold_unit IN ('days', 'weeks', 'months', 'doses')),
    definition      VARCHAR NOT NULL,
    source_id       VARCHAR,
    verified        BOOLEAN NOT NULL,
    note            VARCHAR
);

CREATE TABLE history.outcomes (
    row_id                 BIGINT PRIMARY KEY DEFAULT nextval('history.row_id_seq'),
    valid_from             INTEGER NOT NULL REFERENCES history.revisions (revision_id),
    valid_to               INTEGER,
    trial_id               VARCHAR NOT NULL,
    outcome_id             VARCHAR NOT NULL,
    endpoint               VARCHAR NOT NULL CHECK (endpoint IN ('os', 'pfs', 'orr', 'dcr')),
    measure                VARCHAR NOT NULL CHECK (measure IN ('HR', 'OR', 'RR', 'proportion')),
    -- overall: the whole randomised comparison; resistance: a subgroup or cohort tied to a
    -- resistance definition; subgroup: another named subgroup.
    population             VARCHAR NOT NULL CHECK (population IN ('overall', 'resistance', 'subgroup')),
    definition_id          VARCHAR,
    subgroup               VARCHAR,
    experimental_arm_id    VARCHAR NOT NULL,
    control_arm_id         VARCHAR,
    estimate               DOUBLE,
    ci_low                 DOUBLE,
    ci_high                DOUBLE,
    ci_level               DOUBLE CHECK (ci_level > 50 AND ci_level < 100),
    -- a disputed CI level: the level the interval may really have (see `dispute`).
    ci_level_alternative   DOUBLE CHECK (ci_level_alternative > 50 AND ci_level_alternative < 100),
    dispute                VARCHAR,
    p_value                DOUBLE CHECK (p_value >= 0 AND p_value <= 1),
    p_sided                VARCHAR CHECK (p_sided IN ('one', 'two')),
    experimental_events    INTEGER CHECK (experimental_events >= 0),
    experimental_n         INTEGER CHECK (experimental_n >= 0),
    control_events         INTEGER CHECK (control_events >= 0),
    control_n              INTEGER CHECK (control_n >= 0),
    experimental_median    DOUBLE,
    control_median         DOUBLE,
    median_unit            VARCHAR CHECK (median_unit IN ('months', 'weeks')),
    assessment             VARCHAR,
    analysis               VARCHAR,
    data_cutoff            DATE,
    source_id              VARCHAR NOT NULL,
    location               VARCHAR,
    raw_text               VARCHAR NOT NULL,
    verified               BOOLEAN NOT NULL,
    note                   VARCHAR
);

CREATE TABLE history.adverse_events (
    row_id             BIGINT PRIMARY KEY DEFAULT nextval('history.row_id_seq'),
    valid_from         INTEGER NOT NULL REFERENCES history.revisions (revision_id),
    valid_to           INTEGER,
    trial_id           VARCHAR NOT NULL,
    ae_id              VARCHAR NOT NULL,
    arm_id             VARCHAR NOT NULL,
    term               VARCHAR NOT NULL,
    -- aggregate: a summary category (e.g. any treatment-related AE); term: one MedDRA-like term.
    kind               VARCHAR NOT NULL CHECK (kind IN ('aggregate', 'term')),
    grade_band         VARCHAR NOT NULL CHECK (grade_band IN ('any', '1-2', '3', '3-4', '>=3', '4', '5')),
    treatment_related  BOOLEAN NOT NULL,
    subjects_affected  INTEGER CHECK (subjects_affected >= 0),
    subjects_at_risk   INTEGER CHECK (subjects_at_risk >= 0),
    percent            DOUBLE CHECK (percent >= 0 AND percent <= 100),
    source_id          VARCHAR NOT NULL,
    location           VARCHAR,
    raw_text           VARCHAR NOT NULL,
    verified           BOOLEAN NOT NULL,
    note               VARCHAR
);
