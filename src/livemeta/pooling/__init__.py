"""Pooling engine: pure numpy/scipy meta-analysis estimators (R metafor equivalents).

Core estimator (this block)::

    pool(yi, vi, method="REML", test="knha")      -> PoolResult
    pool_many(frame, by=[...], method="REML")     -> pandas.DataFrame (one row per analysis)
    confint_tau2(yi, vi, method="REML")           -> Tau2CI (Q-profile CI of tau2, I2, H2)
    back_transform(x, scale="log")                -> exp(x)
"""

from .batch import pool_many
from .core import (
    METHODS,
    PI_TYPES,
    TESTS,
    Tau2CI,
    back_transform,
    confint_tau2,
    pool,
    validate_inputs,
)
from .results import SCALAR_FIELDS, PoolResult

__all__ = [
    "METHODS",
    "PI_TYPES",
    "TESTS",
    "SCALAR_FIELDS",
    "PoolResult",
    "Tau2CI",
    "back_transform",
    "confint_tau2",
    "pool",
    "pool_many",
    "validate_inputs",
]

# ---------------------------------------------------------------------------
# Methods block (effect sizes, 2x2 pooling, subgroups, sensitivity, bias).
# Appended by the methods helper; re-exports only, nothing above is changed.
# ---------------------------------------------------------------------------
from .bias import EggerResult, TrimFillResult, egger_test, trimfill  # noqa: E402
from .effects import (  # noqa: E402
    EffectSizes,
    ft_double_arcsine,
    log_hr_from_ci,
    log_or,
    log_rr,
    logit_proportion,
    risk_difference,
    table_from_events,
    transf_ilogit,
    transf_ipft,
    transf_ipft_hm,
)
from .sensitivity import SensitivityResult, cumulative, leave_one_out  # noqa: E402
from .subgroups import SubgroupResult, pool_subgroups  # noqa: E402
from .twobytwo import MHTests, mh_tests, pool_mh, pool_peto  # noqa: E402

__all__ += [
    "EffectSizes", "table_from_events", "log_or", "log_rr", "risk_difference",
    "logit_proportion", "ft_double_arcsine", "transf_ilogit", "transf_ipft",
    "transf_ipft_hm", "log_hr_from_ci",
    "pool_mh", "pool_peto", "mh_tests", "MHTests",
    "pool_subgroups", "SubgroupResult",
    "leave_one_out", "cumulative", "SensitivityResult",
    "egger_test", "EggerResult", "trimfill", "TrimFillResult",
]

# ---------------------------------------------------------------------------
# Living-review block (issue 12): meta-regression on the shared tau^2 engine.
# ---------------------------------------------------------------------------
from .metareg import MetaRegResult, Prediction, metareg, metareg_many  # noqa: E402

__all__ += ["metareg", "metareg_many", "MetaRegResult", "Prediction"]
from .influence import InfluenceResult, influence  # noqa: E402
from .sensitivity import cumulative_tables, leave_one_out_tables  # noqa: E402

__all__ += ["influence", "InfluenceResult", "leave_one_out_tables", "cumulative_tables"]
from .sequential import (  # noqa: E402
    GroupSequentialDesign,
    Monitoring,
    diversity,
    group_sequential_design,
    monitor,
    monitor_many,
    required_information,
)

__all__ += ["group_sequential_design", "GroupSequentialDesign", "monitor", "monitor_many", "Monitoring",
            "required_information", "diversity"]
from .hazard import (  # noqa: E402
    log_hr_from_logrank,
    log_hr_from_oe,
    log_hr_from_observed_expected,
    log_hr_from_p,
    log_hr_from_p_events,
)

__all__ += ["log_hr_from_p", "log_hr_from_p_events", "log_hr_from_oe",
            "log_hr_from_observed_expected", "log_hr_from_logrank"]
