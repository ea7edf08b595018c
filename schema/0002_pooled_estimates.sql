-- 0002_pooled_estimates: every pooled result livemeta computes, stored per analysis and revision.
--
-- One row per (analysis, revision, stratum): stratum 'overall' for the pooled estimate of all the
-- analysis's studies, or a subgroup value (e.g. 'acquired', 'multitarget_tki'). Estimates are on the
-- analysis scale (`scale`: log for HR/OR/RR, logit for proportions); the views back-transform.
-- `method_spec` is the full specification as JSON (analysis id, view, filters, estimator, CI test,
-- PI distribution, zero-cell rule, CI-level choice), so every number says what made it.
CREATE TABLE history.pooled_estimates (
    analysis_id       VARCHAR NOT NULL,
    revision_id       INTEGER NOT NULL REFERENCES history.revisions (revision_id),
    stratum           VARCHAR NOT NULL,
    computed_at       TIMESTAMP NOT NULL,
    livemeta_version  VARCHAR NOT NULL,
    view_name         VARCHAR NOT NULL,
    measure           VARCHAR NOT NULL CHECK (measure IN ('HR', 'OR', 'RR', 'proportion')),
    scale             VARCHAR NOT NULL CHECK (scale IN ('log', 'logit', 'identity')),
    method            VARCHAR NOT NULL,
    test              VARCHAR NOT NULL,
    level             DOUBLE NOT NULL,
    pi_dist           VARCHAR,
    zero_cell_rule    VARCHAR,
    ci_level_choice   VARCHAR,
    method_spec       VARCHAR NOT NULL,
    k                 INTEGER NOT NULL,
    trials            VARCHAR[] NOT NULL,
    estimate          DOUBLE,
    se                DOUBLE,
    stat              DOUBLE,
    p                 DOUBLE,
    ci_low            DOUBLE,
    ci_high           DOUBLE,
    pi_low            DOUBLE,
    pi_high           DOUBLE,
    tau2              DOUBLE,
    i2                DOUBLE,
    h2                DOUBLE,
    q                 DOUBLE,
    q_df              INTEGER,
    q_p               DOUBLE,
    converged         BOOLEAN NOT NULL,
    message           VARCHAR,
    -- the test for subgroup differences, on the 'overall' row of a subgroup analysis
    q_between         DOUBLE,
    df_between        INTEGER,
    p_between         DOUBLE,
    PRIMARY KEY (analysis_id, revision_id, stratum)
);
