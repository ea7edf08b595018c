"""livemeta.pooling.pool / confint_tau2 against R metafor (PyMARE validation/metafor style).

Reference numbers: ``tests/pooling/reference/rma_reference.json``, written by
``tests/pooling/reference/make_reference_rma.R`` (metafor 3.8-1, R 4.2.2;
every number ``sprintf("%.17g")``, the R call stored beside it).  CI never runs
R, it only reads the committed JSON.

Tolerances (``|livemeta - metafor| <= tol * max(1, |metafor|)``, i.e. absolute
for values up to 1 and relative beyond, because tau2, Q and H2 reach 1e7 in
some random data sets):

* ``TOL_CLOSED = 1e-8`` for FE, DL, HE, SJ, HS and everything derived from
  them: the same closed-form formulas evaluated in a different order, so only
  floating-point rounding separates the two implementations.
* ``TOL_ITER = 1e-6`` for REML, ML, PM, EB and the Q-profile bounds: metafor
  stops iterating at a tau2 change below 1e-5 (Fisher scoring) or a bracket
  below ``.Machine$double.eps^0.25`` (uniroot), so its numbers are only that
  precise as solutions; livemeta replays the same algorithms, and 1e-6 leaves
  room for rounding to move a stopping decision by one iteration.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from livemeta.pooling import METHODS, TESTS, confint_tau2, pool, pool_many

REF_PATH = Path(__file__).parent / "reference" / "rma_reference.json"
REF = json.loads(REF_PATH.read_text())
DATASETS = REF["datasets"]
CASES = REF["cases"]

TOL_CLOSED = 1e-8
TOL_ITER = 1e-6
ITERATIVE = {"REML", "ML", "PM", "EB"}

# rma() field -> PoolResult field
RMA_FIELDS = {
    "beta": "estimate",
    "se": "se",
    "zval": "stat",
    "pval": "p",
    "ci.lb": "ci_low",
    "ci.ub": "ci_high",
    "tau2": "tau2",
    "se.tau2": "tau2_se",
    "I2": "i2",
    "H2": "h2",
    "QE": "q",
    "QEp": "q_p",
}
CONFINT_FIELDS = {
    "tau2": "tau2",
    "tau2.lb": "tau2_low",
    "tau2.ub": "tau2_high",
    "I2": "i2",
    "I2.lb": "i2_low",
    "I2.ub": "i2_high",
    "H2": "h2",
    "H2.lb": "h2_low",
    "H2.ub": "h2_high",
}


def _num(x) -> float:
    """JSON value -> float (null is R's NA, strings carry Inf/-Inf/NaN)."""
    if x is None:
        return math.nan
    if isinstance(x, str):
        return float(x.replace("Inf", "inf"))
    return float(x)


def _tol(method: str) -> float:
    return TOL_ITER if method in ITERATIVE else TOL_CLOSED


def _check(name: str, got: float, expected, tol: float, ctx: str) -> None:
    exp = _num(expected)
    if math.isnan(exp):
        assert math.isnan(got), f"{ctx}: {name} = {got!r}, metafor gives NA"
        return
    if math.isinf(exp):
        assert got == exp, f"{ctx}: {name} = {got!r}, metafor gives {exp!r}"
        return
    assert abs(got - exp) <= tol * max(1.0, abs(exp)), (
        f"{ctx}: {name} = {got!r}, metafor {exp!r} (diff {abs(got - exp):.3g}, tol {tol:g})"
    )


def _data(case):
    ds = DATASETS[case["dataset"]]
    return np.array(ds["yi"]), np.array(ds["vi"])


def _pool(case, **kw):
    yi, vi = _data(case)
    return pool(yi, vi, method=case["method"], test=case["test"], control=case.get("control"), **kw)


# ----------------------------------------------------------------- grid guard
EXPECTED_COUNTS = {f"{m}/{t}": 125 for m in METHODS for t in TESTS}
# cases with a control list: REML/ML/EB maxiter=2, PM tau2.max=0.01, REML maxiter=50,
# REML/ML ll0check=FALSE
EXPECTED_COUNTS.update({"REML/z": 128, "ML/z": 127, "EB/z": 126, "PM/z": 126})


def test_grid_size():
    """The reference grid cannot silently shrink."""
    counts = Counter(f"{c['method']}/{c['test']}" for c in CASES)
    assert dict(counts) == EXPECTED_COUNTS
    assert len(CASES) == sum(EXPECTED_COUNTS.values()) == 2257
    assert REF["grid"]["n_cases"] == len(CASES)
    assert REF["grid"]["counts"] == EXPECTED_COUNTS
    assert sorted(REF["grid"]["methods"]) == sorted(METHODS)
    assert len(DATASETS) == 125
    assert sum(name.startswith("random_") for name in DATASETS) == 120
    assert {"bcg_logRR", "bcg_logOR", "normand1999_MD", "hackshaw1998_logOR", "ll0check_k4"} <= set(DATASETS)
    ks = {len(DATASETS[n]["yi"]) for n in DATASETS if n.startswith("random_")}
    assert ks == set(range(2, 31))
    # every method x test on every data set
    for name in DATASETS:
        got = {(c["method"], c["test"]) for c in CASES if c["dataset"] == name and "control" not in c}
        assert got == {(m, t) for m in METHODS for t in TESTS}, name
    # Q-profile CIs: every random-effects method on dat.bcg, and on most others
    bcg_ci = {c["method"] for c in CASES if c["dataset"] == "bcg_logRR" and "confint" in c}
    assert {"REML", "DL", "ML", "PM"} <= bcg_ci
    assert sum("confint" in c for c in CASES) == REF["grid"]["n_confint"] == 995
    assert sum("error" in c for c in CASES) == REF["grid"]["n_error"] == 14


def test_the_grid_reaches_metafors_ll0check():
    """ll0check_k4: metafor's REML and ML stop at a local maximum and ll0check sets tau2 = 0;
    with ll0check=FALSE they keep the local maximum (checked value by value in test_rma_case)."""
    by_name = {c["name"]: c for c in CASES}
    for method, local_max in (("REML", 4.0280828605651395), ("ML", 1.865056446728037)):
        assert by_name[f"ll0check_k4/{method}/z"]["rma"]["tau2"] == 0
        off = by_name[f"ll0check_k4/{method}/z/no_ll0check"]
        assert off["control"] == {"ll0check": 0} and off["rma"]["tau2"] == local_max
        res = _pool(by_name[f"ll0check_k4/{method}/z"])
        assert res.tau2 == 0 and "tau2 set to 0" in res.message


def test_reference_provenance():  # versions: tests/reference/test_reference_versions.py
    assert all("call" in c and "rma" in c["call"] for c in CASES)


# ------------------------------------------------------------------ the cases
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_rma_case(case):
    res = _pool(case)
    ctx = f"{case['name']} [{case['call']['rma']}]"
    if "error" in case:
        # metafor stops with an error; livemeta reports instead of raising
        assert not res.converged, ctx
        assert res.message, ctx
        assert math.isnan(res.estimate) and math.isnan(res.tau2), ctx
        assert math.isfinite(res.q) and res.q_df == case["k"] - 1, ctx
        return
    assert res.converged, f"{ctx}: {res.message}"
    assert res.k == case["k"]
    assert res.test == case["test_used"]
    tol = _tol(case["method"])
    exp = case["rma"]
    for r_name, py_name in RMA_FIELDS.items():
        _check(py_name, getattr(res, py_name), exp[r_name], tol, ctx)
    # weights(res), in percent
    assert len(res.weights) == len(case["weights"])
    for i, (got, want) in enumerate(zip(res.weights, case["weights"])):
        _check(f"weights[{i}]", got, want, tol, ctx)
    assert math.isclose(sum(res.weights), 100.0, rel_tol=1e-12)
    # predict(res): metafor gives no PI for FE, livemeta returns the CI there
    pr = case["predict"]
    _check("predict.pred", res.estimate, pr["pred"], tol, ctx)
    _check("predict.ci.lb", res.ci_low, pr["ci.lb"], tol, ctx)
    _check("predict.ci.ub", res.ci_high, pr["ci.ub"], tol, ctx)
    if case["method"] == "FE":
        assert pr["pi.lb"] is None
        assert (res.pi_low, res.pi_high) == (res.ci_low, res.ci_high)
    else:
        _check("pi_low", res.pi_low, pr["pi.lb"], tol, ctx)
        _check("pi_high", res.pi_high, pr["pi.ub"], tol, ctx)


RILEY = [c for c in CASES if "predict_riley" in c]


@pytest.mark.parametrize("case", RILEY, ids=[c["name"] for c in RILEY])
def test_pi_t_k_minus_2(case):
    """pi="t(k-2)" (Higgins-Thompson-Spiegelhalter) = predict(res, pi.type="riley")."""
    res = _pool(case, pi="t(k-2)")
    assert res.pi_dist == "t(k-2)"
    ctx = f"{case['name']} [{case['call']['predict_riley']}]"
    tol = _tol(case["method"])
    _check("pi_low", res.pi_low, case["predict_riley"]["pi.lb"], tol, ctx)
    _check("pi_high", res.pi_high, case["predict_riley"]["pi.ub"], tol, ctx)


CONFINT = [c for c in CASES if "confint" in c]


@pytest.mark.parametrize("case", CONFINT, ids=[c["name"] for c in CONFINT])
def test_confint_qprofile(case):
    """confint_tau2 = confint(rma(...)), including metafor's bound markers."""
    yi, vi = _data(case)
    ci = confint_tau2(yi, vi, method=case["method"])
    exp = case["confint"]
    ctx = f"{case['name']} [{case['call']['confint']}]"
    assert ci.converged, ctx
    # the bounds come from uniroot(tol=eps^0.25) in metafor: iterative tolerance;
    # the point estimates carry the tolerance of their estimator
    for r_name, py_name in CONFINT_FIELDS.items():
        tol = TOL_ITER if "." in r_name else _tol(case["method"])
        _check(py_name, getattr(ci, py_name), exp[r_name], tol, ctx)
    assert ci.lb_sign == exp["lb.sign"], ctx
    assert ci.ub_sign == exp["ub.sign"], ctx
    assert ci.ci_null == exp["ci.null"], ctx
    if exp["ci.null"]:
        assert ci.tau2_low == ci.tau2_high == 0.0
        assert ci.tau2_low_truncated and ci.tau2_high_truncated


def test_confint_bcg_values():
    """Spot check against the printed metafor output for dat.bcg (REML)."""
    case = next(c for c in CONFINT if c["name"] == "bcg_logRR/REML/z")
    yi, vi = _data(case)
    ci = confint_tau2(yi, vi, method="REML")
    assert round(ci.tau2_low, 4) == 0.1197
    assert round(ci.tau2_high, 4) == 1.1115
    assert round(ci.i2_low, 4) == 81.9177
    assert round(ci.h2_high, 4) == 43.0680


def test_confint_lower_bound_at_zero_occurs():
    """The grid contains CIs whose lower bound is truncated at 0 and CIs equal to {0}."""
    assert any(c["confint"].get("tau2.lb") == 0 for c in CONFINT)
    assert any(c["confint"].get("ci.null") for c in CONFINT)


# --------------------------------------------- the batch path against metafor
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("test", TESTS)
def test_pool_many_matches_metafor(method, test):
    """pool_many over all reference data sets at once, checked against metafor."""
    import pandas as pd

    rows = []
    for name, ds in DATASETS.items():
        rows.append(pd.DataFrame({"analysis": name, "yi": ds["yi"], "vi": ds["vi"]}))
    frame = pd.concat(rows, ignore_index=True)
    out = pool_many(frame, by="analysis", method=method, test=test).set_index("analysis")
    tol = _tol(method)
    for case in CASES:
        if case["method"] != method or case["test"] != test or "control" in case:
            continue
        row = out.loc[case["dataset"]]
        ctx = f"pool_many {case['name']}"
        if "error" in case:
            assert not row["converged"], ctx
            continue
        for r_name, py_name in RMA_FIELDS.items():
            _check(py_name, float(row[py_name]), case["rma"][r_name], tol, ctx)
        if method != "FE":
            _check("pi_low", float(row["pi_low"]), case["predict"]["pi.lb"], tol, ctx)
            _check("pi_high", float(row["pi_high"]), case["predict"]["pi.ub"], tol, ctx)
