"""Pooling engine: pure numpy/scipy meta-analysis estimators (R metafor equivalents), arrays in,
result objects out; no I/O, no database.

    pool(yi, vi, method="REML", test="knha")      -> PoolResult      (metafor rma(); default REML, as rma)
    pool_many(frame, by=[...], method="REML")     -> pandas.DataFrame (one row per analysis)
    pool_glmm(xi, ni)                             -> PoolResult      (metafor rma.glmm(measure="PLO"))
    confint_tau2(yi, vi, method="REML")           -> Tau2CI (Q-profile CI of tau2, I2, H2)
    back_transform(x, scale="log")                -> exp(x)

Effect sizes (escalc): log_or, log_rr, risk_difference, logit_proportion, ft_double_arcsine,
log_hr_from_ci; exact (Clopper-Pearson) limits of a proportion: proportion_ci_exact; hazard ratios from what a trial reports (Parmar 1998, Tierney 2007):
log_hr_from_p, log_hr_from_p_events, log_hr_from_oe, log_hr_from_observed_expected,
log_hr_from_logrank. 2x2 pooling: pool_mh, pool_peto, mh_tests. Subgroups: pool_subgroups.
Meta-regression: metareg, metareg_many. Sensitivity: leave_one_out, cumulative (and their
Mantel-Haenszel / Peto forms), influence. Small-study effects: egger_test, trimfill. Sequential
monitoring: group_sequential_design, required_information, diversity, monitor, monitor_many,
monitoring_model, crossing_probability.
All estimators of tau2 come from one engine (``_tau2.py``) with metafor's control settings.
"""

from .batch import pool_many
from .bias import EggerResult, TrimFillResult, egger_test, trimfill
from .core import METHODS, PI_TYPES, TESTS, Tau2CI, back_transform, confint_tau2, pool, validate_inputs
from .effects import (
    EffectSizes,
    ft_double_arcsine,
    log_hr_from_ci,
    log_or,
    log_rr,
    logit_proportion,
    proportion_ci_exact,
    risk_difference,
    table_from_events,
    transf_ilogit,
    transf_ipft,
    transf_ipft_hm,
)
from .hazard import (
    log_hr_from_logrank,
    log_hr_from_oe,
    log_hr_from_observed_expected,
    log_hr_from_p,
    log_hr_from_p_events,
)
from .glmm import pool_glmm
from .influence import InfluenceResult, influence
from .metareg import MetaRegResult, Prediction, metareg, metareg_many
from .results import SCALAR_FIELDS, PoolResult
from .sensitivity import SensitivityResult, cumulative, cumulative_tables, leave_one_out, leave_one_out_tables
from .sequential import (
    OVERRUN_RULES,
    GroupSequentialDesign,
    Monitoring,
    crossing_probability,
    diversity,
    group_sequential_design,
    monitor,
    monitor_many,
    monitoring_model,
    required_information,
)
from .subgroups import SubgroupResult, pool_subgroups
from .twobytwo import MHTests, mh_tests, pool_mh, pool_peto

__all__ = [
    # the intercept model
    "METHODS", "PI_TYPES", "TESTS", "SCALAR_FIELDS", "PoolResult", "Tau2CI",
    "back_transform", "confint_tau2", "pool", "pool_many", "pool_glmm", "validate_inputs",
    # effect sizes
    "EffectSizes", "table_from_events", "log_or", "log_rr", "risk_difference", "logit_proportion",
    "ft_double_arcsine", "proportion_ci_exact", "transf_ilogit", "transf_ipft", "transf_ipft_hm", "log_hr_from_ci",
    "log_hr_from_p", "log_hr_from_p_events", "log_hr_from_oe", "log_hr_from_observed_expected",
    "log_hr_from_logrank",
    # 2x2 tables, subgroups, meta-regression
    "pool_mh", "pool_peto", "mh_tests", "MHTests", "pool_subgroups", "SubgroupResult",
    "metareg", "metareg_many", "MetaRegResult", "Prediction",
    # sensitivity and small-study effects
    "leave_one_out", "cumulative", "leave_one_out_tables", "cumulative_tables", "SensitivityResult",
    "influence", "InfluenceResult", "egger_test", "EggerResult", "trimfill", "TrimFillResult",
    # sequential monitoring
    "group_sequential_design", "GroupSequentialDesign", "monitor", "monitor_many", "Monitoring",
    "required_information", "diversity", "monitoring_model", "crossing_probability", "OVERRUN_RULES",
]
