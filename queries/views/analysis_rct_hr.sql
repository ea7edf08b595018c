-- Hazard ratios of randomised comparisons, analysis-ready: yi = ln HR and vi, from the CI or derived from what the trial reports.
-- `derivation` says how yi and vi were obtained (the default reading), in this order of preference:
--   ci              ln HR; vi = ((ln ci_high - ln ci_low) / (2 z))^2, z for the printed ci_level (vi_from_ci)
--   oe_v            ln HR = (O - E) / V; vi = 1 / V
--   p_value         ln HR as printed; vi = (ln HR / z)^2, z = z_{1-p/2} (two-sided p) or z_{1-p} (one-sided)
--   logrank_chisq   ln HR as printed; vi = (ln HR)^2 / chi2
--   p_events        O - E = +-sqrt(V) z, V = D r / (1 + r)^2 (D events in all, r = n_e / n_c or the
--                   allocation ratio, 1 when neither is given); ln HR = (O - E) / V; vi = 1 / V
--   logrank_events  the same with z = sqrt(chi2)
-- (Parmar et al. 1998; Tierney et al. 2007; livemeta.pooling.hazard computes the same in Python.)
-- A CI whose level is disputed (ci_level_alternative given) has two more readings, which analyses
-- choose with `ci_level` in queries/analyses.yaml (default: the printed level, vi):
--   vi_alternative                    the CI read at ci_level_alternative (else vi)
--   vi_p_value, derivation_p_value    the variance from the printed p-value and HR where both are
--                                     given (Lung-MAP S1800A's one-sided P = .05), else vi
-- One row per outcome (overall, resistance subgroup or other subgroup); trial_resistance is the
-- category the trial's own eligibility implies (its scope = 'trial' definition), prior_io_minimum
-- whether it required a minimum prior PD-(L)1 exposure or benefit and min_prior_io_months that
-- minimum (moderators for meta-regression, coded below);
-- n_randomised the patients of the comparison (the outcome's n per arm, else the arms' n randomised, else
-- the trial's: an upper bound of the events any variance may imply); participants the patients it
-- compares as the reports count them (the outcome's own n per arm; for a whole-trial outcome, else
-- the arms' n randomised, else the trial's when it has two arms; NULL: not known); rob_overall and
-- rob_status the risk-of-bias judgement in force for the outcome's endpoint (analysis_risk_of_bias;
-- NULL: not assessed).
WITH trial_resistance AS (
    -- one eligibility definition (scope 'trial') per trial, coded by what it required of the prior
    -- PD-(L)1 therapy (the moderators of os_by_prior_io):
    --   prior_io_minimum     'required' when it set a minimum time on, or benefit from, prior PD-(L)1
    --                        (a threshold of a prior_io_duration, time_to_progression or
    --                        best_response criterion that is a minimum, threshold_comparator >= or >,
    --                        or of a format-1 file, whose direction is not recorded: S1800A >= 84
    --                        days, SAPPHIRE >= 4 months, stable disease >= 6 months); 'none required'
    --                        for eligibility without a threshold (progression on or after PD-(L)1 at
    --                        any time: primary resistance admitted); NULL for criteria without a
    --                        threshold of another kind (best response alone, treatment-free interval)
    --                        and for a maximum (< or <=): not classifiable
    --   min_prior_io_months  that minimum in months (days / 30.4375, weeks * 7 / 30.4375); NULL when
    --                        none was required (no requirement is not a requirement of 0 months)
    SELECT
        trial_id,
        arg_min(category, definition_id) AS trial_resistance,
        max(CASE
            WHEN criterion_kind IN ('prior_io_duration', 'time_to_progression', 'best_response') AND threshold IS NOT NULL
                 AND coalesce(threshold_comparator, '>=') IN ('>=', '>')
                THEN threshold * CASE threshold_unit WHEN 'months' THEN 1.0 WHEN 'weeks' THEN 7 / 30.4375
                                                     WHEN 'days' THEN 1 / 30.4375 END
        END) AS min_prior_io_months,
        CASE
            WHEN bool_or(criterion_kind IN ('prior_io_duration', 'time_to_progression', 'best_response')
                         AND threshold IS NOT NULL AND coalesce(threshold_comparator, '>=') IN ('>=', '>'))
                THEN 'required'
            WHEN bool_or(criterion_kind = 'eligibility' AND threshold IS NULL) THEN 'none required'
        END AS prior_io_minimum
    FROM resistance_definitions
    WHERE scope = 'trial'
    GROUP BY trial_id
),
base AS (
    SELECT
        o.*,
        -- three upper-tail normal quantiles in one qnorm_list: z of the printed p-value (z_{1-p/2} or
        -- z_{1-p}), and z_crit of the CI's printed level and of its alternative (the printed when none)
        list_transform(qnorm_list([CASE o.p_sided WHEN 'two' THEN o.p_value / 2 WHEN 'one' THEN o.p_value END,
                                   ci_tail(o.ci_level), ci_tail(coalesce(o.ci_level_alternative, o.ci_level))]),
                       lambda q: -q) AS z_list,
        CASE WHEN o.logrank_chisq > 0 THEN sqrt(o.logrank_chisq) END AS z_chisq,
        coalesce(o.total_events, o.experimental_events + o.control_events) AS d_events,
        coalesce(o.experimental_n::DOUBLE / nullif(o.control_n, 0), o.allocation_ratio, 1.0) AS alloc,
        CASE
            WHEN o.estimate IS NOT NULL AND o.estimate <> 1 THEN sign(ln(o.estimate))
            WHEN o.hr_direction = 'below_1' THEN -1.0
            WHEN o.hr_direction = 'above_1' THEN 1.0
        END AS direction
    FROM outcomes AS o
    WHERE o.measure = 'HR' AND o.control_arm_id IS NOT NULL
),
readings AS (
    SELECT
        b.*,
        b.z_list[1] AS z_p,
        b.d_events * b.alloc / pow(1 + b.alloc, 2) AS v_events,
        CASE WHEN b.estimate > 0 THEN vi_from_z(b.ci_low, b.ci_high, b.z_list[2]) END AS vi_ci,
        CASE WHEN b.oe_variance > 0 THEN b.o_minus_e / b.oe_variance END AS yi_oe,
        CASE WHEN b.estimate > 0 AND b.estimate <> 1 AND b.z_list[1] > 0 THEN pow(ln(b.estimate) / b.z_list[1], 2) END AS vi_p,
        CASE WHEN b.estimate > 0 AND b.estimate <> 1 AND b.z_chisq > 0
             THEN pow(ln(b.estimate), 2) / b.logrank_chisq END AS vi_chisq
    FROM base AS b
),
derived AS (
    SELECT
        r.*,
        CASE
            WHEN r.ci_low IS NOT NULL AND r.ci_high IS NOT NULL THEN 'ci'  -- a reported CI is read, or fails loudly
            WHEN r.yi_oe IS NOT NULL THEN 'oe_v'
            WHEN r.vi_p IS NOT NULL THEN 'p_value'
            WHEN r.vi_chisq IS NOT NULL THEN 'logrank_chisq'
            WHEN r.z_p > 0 AND r.v_events > 0 AND r.direction IS NOT NULL THEN 'p_events'
            WHEN r.z_chisq > 0 AND r.v_events > 0 AND r.direction IS NOT NULL THEN 'logrank_events'
        END AS derivation
    FROM readings AS r
),
final AS (
    SELECT
        d.*,
        CASE d.derivation
            WHEN 'ci' THEN ln(d.estimate)
            WHEN 'oe_v' THEN d.yi_oe
            WHEN 'p_value' THEN ln(d.estimate)
            WHEN 'logrank_chisq' THEN ln(d.estimate)
            WHEN 'p_events' THEN d.direction * sqrt(d.v_events) * d.z_p / d.v_events
            WHEN 'logrank_events' THEN d.direction * sqrt(d.v_events) * d.z_chisq / d.v_events
        END AS yi,
        CASE d.derivation
            WHEN 'ci' THEN d.vi_ci
            WHEN 'oe_v' THEN 1 / d.oe_variance
            WHEN 'p_value' THEN d.vi_p
            WHEN 'logrank_chisq' THEN d.vi_chisq
            WHEN 'p_events' THEN 1 / d.v_events
            WHEN 'logrank_events' THEN 1 / d.v_events
        END AS vi
    FROM derived AS d
    WHERE d.derivation IS NOT NULL
)
SELECT
    o.trial_id,
    t.name AS trial,
    CASE o.population
        WHEN 'overall' THEN t.name
        ELSE t.name || ' (' || coalesce(o.subgroup, o.definition_id) || ')'
    END AS label,
    o.outcome_id,
    o.endpoint,
    o.population,
    o.definition_id,
    o.subgroup,
    o.estimate,
    o.ci_low,
    o.ci_high,
    o.ci_level,
    o.ci_level_alternative,
    o.dispute,
    o.yi,
    o.vi,
    o.derivation,
    CASE WHEN o.derivation = 'ci'
         THEN vi_from_z(o.ci_low, o.ci_high, o.z_list[3])
         ELSE o.vi END AS vi_alternative,
    CASE WHEN o.derivation = 'ci' AND o.ci_level_alternative IS NOT NULL AND o.vi_p IS NOT NULL
         THEN o.vi_p ELSE o.vi END AS vi_p_value,
    CASE WHEN o.derivation = 'ci' AND o.ci_level_alternative IS NOT NULL AND o.vi_p IS NOT NULL
         THEN 'p_value' ELSE o.derivation END AS derivation_p_value,
    o.d_events AS events,
    coalesce(o.experimental_n + o.control_n, e.n_randomised + c.n_randomised, t.randomised_n) AS n_randomised,
    -- the patients compared: the outcome's own n per arm; for a whole-trial outcome, else the arms'
    -- n randomised, else the trial's when it has two arms; NULL when not known
    coalesce(o.experimental_n + o.control_n,
             CASE WHEN o.population = 'overall'
                  THEN coalesce(e.n_randomised + c.n_randomised, CASE WHEN na.n_arms = 2 THEN t.randomised_n END) END)
        AS participants,
    o.p_value,
    o.p_sided,
    o.o_minus_e,
    o.oe_variance,
    o.logrank_chisq,
    o.alloc AS allocation,   -- r of the events' derivations (n_e / n_c, the allocation ratio, or 1)
    o.direction,             -- the sign of ln HR the events' derivations give it (-1 below 1, +1 above)
    e.treatment_class,
    e.regimen AS experimental_regimen,
    e.pd1_agent,
    c.control_type,
    c.regimen AS control_regimen,
    r.trial_resistance,
    r.min_prior_io_months,
    r.prior_io_minimum,
    t.first_published,
    t.first_publication_date,
    t.inclusion,
    o.verified,
    o.source_id,
    o.raw_text,
    rb.rob_overall,
    rb.rob_status
FROM final AS o
JOIN trials AS t USING (trial_id)
JOIN arms AS e ON e.trial_id = o.trial_id AND e.arm_id = o.experimental_arm_id
LEFT JOIN arms AS c ON c.trial_id = o.trial_id AND c.arm_id = o.control_arm_id
LEFT JOIN trial_resistance AS r ON r.trial_id = o.trial_id
LEFT JOIN (SELECT trial_id, count(*) AS n_arms FROM arms GROUP BY trial_id) AS na ON na.trial_id = o.trial_id
LEFT JOIN analysis_risk_of_bias AS rb ON rb.trial_id = o.trial_id AND rb.outcome_id = o.outcome_id
WHERE t.design = 'rct'
