"""The binomial-normal GLMM for proportions and exact (Clopper-Pearson) intervals against R.

Reference: ``tests/pooling/reference/glmm_reference.json``, written by
``tests/pooling/reference/make_reference_glmm.R`` (metafor 3.8.1 ``rma.glmm(measure="PLO")``,
lme4 1.1-31, ``binom.test``).

Tolerances: ``|livemeta - metafor| <= 1e-6 * max(1, |metafor|)`` (I² as a fraction) against the fit with lme4's optimiser run to
convergence ("tight"); 5e-5 against metafor's default settings, whose optimiser stops about 1e-5
short of the optimum (the reference records both: the differences are lme4's, not livemeta's).
The exact intervals agree to 1e-12.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from livemeta.pooling.effects import logit_proportion, proportion_ci_exact
from livemeta.pooling.glmm import pool_glmm
from livemeta.pooling import pool

from ._reference import load_reference

REF = load_reference("glmm_reference.json")
FITS = [c for c in REF["cases"] if "tight" in c]
EXACT = next(c for c in REF["cases"] if c["name"] == "clopper_pearson")
FIELDS = {"beta": "estimate", "se": "se", "zval": "stat", "ci_lb": "ci_low", "ci_ub": "ci_high", "tau2": "tau2",
          "pi_lb": "pi_low", "pi_ub": "pi_high", "QE_LRT": "q", "QEp_LRT": "q_p", "pval": "p"}


def _errors(res, ref) -> dict[str, float]:
    """|livemeta - metafor| / max(1, |metafor|) per field (I² as a fraction)."""
    out = {key: abs(getattr(res, attr) - ref[key]) / max(1.0, abs(ref[key])) for key, attr in FIELDS.items()}
    out["I2"] = abs(res.i2 - ref["I2"]) / 100
    out["H2"] = abs(res.h2 - ref["H2"])
    return out


def test_the_reference_covers_the_cases_that_matter():
    assert len(FITS) == 5
    assert [c["tight"]["tau2"] == 0 for c in FITS].count(True) == 1  # the boundary (the bundled analysis)
    assert any(0 in c["xi"] for c in FITS if c["tight"]["tau2"] > 0)  # zero cells with heterogeneity
    assert min(len(c["xi"]) for c in FITS) == 2


@pytest.mark.parametrize("case", FITS, ids=[c["name"] for c in FITS])
def test_glmm_matches_metafor_to_1e6(case):
    res = pool_glmm(case["xi"], case["ni"])
    assert res.converged and res.method == "GLMM" and res.test == "z" and res.scale == "logit"
    worst = max(_errors(res, case["tight"]).items(), key=lambda kv: kv[1])
    assert worst[1] < 1e-6, worst
    default = max(_errors(res, case["default"]).values())
    assert default < 5e-5


def test_bundled_single_arm_orr_glmm_and_the_inverse_variance_model_differ_as_the_issue_says():
    """11.4% (8.2-15.7) by the GLMM against 12.5% (9.0-17.1) on logits with 1/2 added (issue 23)."""
    case = FITS[0]
    res = pool_glmm(case["xi"], case["ni"])
    p = [1 / (1 + math.exp(-v)) for v in (res.estimate, res.ci_low, res.ci_high)]
    assert [round(100 * v, 1) for v in p] == [11.4, 8.2, 15.7]
    assert res.tau2 == 0 and res.i2 == 0
    es = logit_proportion(case["xi"], case["ni"])
    reml = pool(es.yi, es.vi, method="REML")
    q = [1 / (1 + math.exp(-v)) for v in (reml.estimate, reml.ci_low, reml.ci_high)]
    assert [round(100 * v, 1) for v in q] == [12.5, 9.0, 17.1]


def test_glmm_refuses_what_metafor_cannot_fit_without_raising():
    one = pool_glmm([5], [20])
    assert not one.converged and "k = 1" in one.message and math.isnan(one.estimate)
    none = pool_glmm([0, 0], [20, 30])
    assert not none.converged and "no study has an event" in none.message
    with pytest.raises(ValueError, match="xi > ni"):
        pool_glmm([5, 30], [20, 25])


def test_clopper_pearson_matches_binom_test():
    lo, hi = proportion_ci_exact(EXACT["xi"], EXACT["ni"], EXACT["level"])
    assert np.max(np.abs(lo - np.array(EXACT["ci_lb"]))) < 1e-12
    assert np.max(np.abs(hi - np.array(EXACT["ci_ub"]))) < 1e-12
    assert lo[0] == 0.0 and round(100 * hi[0], 1) == 14.8  # AK104-202: 0 of 23 -> 0% (0-14.8%)
    assert hi[4] == 1.0  # 23 of 23
