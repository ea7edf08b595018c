-- 0006_risk_of_bias: risk-of-bias assessments from the study files' `risk_of_bias` section.
-- (Written as 0005 on the issue-11 branch; renumbered 0006 when merged after issue 12's 0005.)
--
-- One row per assessment: a trial's outcome (endpoint, optionally the result assessed) judged with
-- one tool by one assessor, or the consensus of two. RoB 2 (randomised trials) has five domains
-- (d1..d5); ROBINS-I (non-randomised evidence) seven (d1..d7); every domain and the overall
-- judgement carry the judgement and the text that supports it. Judgements: RoB 2 low,
-- some_concerns, high, no_information; ROBINS-I low, moderate, serious, critical, no_information.
-- The views `risk_of_bias` (one row per domain), `risk_of_bias_in_force` (the judgement an
-- analysis uses) and `risk_of_bias_disagreements` read it.
CREATE TABLE history.risk_of_bias (
    row_id             BIGINT PRIMARY KEY DEFAULT nextval('history.row_id_seq'),
    valid_from         INTEGER NOT NULL REFERENCES history.revisions (revision_id),
    valid_to           INTEGER,
    trial_id           VARCHAR NOT NULL,
    assessment_id      VARCHAR NOT NULL,
    tool               VARCHAR NOT NULL CHECK (tool IN ('rob2', 'robins_i')),
    endpoint           VARCHAR NOT NULL CHECK (endpoint IN ('os', 'pfs', 'orr', 'dcr', 'safety')),
    result_id          VARCHAR,
    role               VARCHAR NOT NULL CHECK (role IN ('reviewer_1', 'reviewer_2', 'consensus')),
    assessor           VARCHAR NOT NULL,
    assessed_on        DATE,
    source_id          VARCHAR NOT NULL,
    d1_judgement       VARCHAR NOT NULL,
    d1_support         VARCHAR NOT NULL,
    d2_judgement       VARCHAR NOT NULL,
    d2_support         VARCHAR NOT NULL,
    d3_judgement       VARCHAR NOT NULL,
    d3_support         VARCHAR NOT NULL,
    d4_judgement       VARCHAR NOT NULL,
    d4_support         VARCHAR NOT NULL,
    d5_judgement       VARCHAR NOT NULL,
    d5_support         VARCHAR NOT NULL,
    d6_judgement       VARCHAR,
    d6_support         VARCHAR,
    d7_judgement       VARCHAR,
    d7_support         VARCHAR,
    overall_judgement  VARCHAR NOT NULL,
    overall_support    VARCHAR NOT NULL,
    note               VARCHAR,
    CHECK ((tool = 'rob2' AND d6_judgement IS NULL AND d7_judgement IS NULL)
        OR (tool = 'robins_i' AND d6_judgement IS NOT NULL AND d7_judgement IS NOT NULL))
);
