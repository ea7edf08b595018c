"""Subgroup analyses (dat.bcg log RR by alloc) against metafor.

Tolerances
----------
* FE and DL: rtol = atol = 1e-8 (closed form; rounding only).
* REML and ML: rtol = atol = 1e-6 (tau^2 by Fisher scoring, which metafor
  stops at |change| < 1e-5; we and the core estimator replay metafor's
  iterations, so the observed differences are far smaller).
"""

import json
from pathlib import Path

import numpy as np
import pytest

from livemeta.pooling.effects import log_rr
from livemeta.pooling.subgroups import pool_subgroups

REF = json.loads((Path(__file__).parent / "reference" / "methods_reference.json").read_text())
CASES = {c["id"]: c for c in REF["cases"]}
BCG = REF["data"]["dat.bcg"]
CLOSED = dict(rtol=1e-8, atol=1e-8)
ITER = dict(rtol=1e-6, atol=1e-6)


def _tol(method):
    return CLOSED if method in ("FE", "DL") else ITER


def _close(actual, expected, tol):
    np.testing.assert_allclose(np.asarray(actual, float), np.asarray(expected, float), **tol)


YI, VI = log_rr(BCG["tpos"], BCG["tneg"], BCG["cpos"], BCG["cneg"])
SEP = sorted(i for i in CASES if i.startswith("subgroups_separate_"))
COM = sorted(i for i in CASES if i.startswith("subgroups_common_"))


@pytest.mark.parametrize("case_id", SEP)
def test_separate_tau2(case_id):
    v = CASES[case_id]["values"]
    tol = _tol(v["method"])
    res = pool_subgroups(YI, VI, BCG["alloc"], method=v["method"], tau2="separate")
    assert list(res.groups) == v["groups"]
    for g in res.groups:
        r, e = res.subgroups[g], v["per_group"][g]
        assert r.k == e["k"]
        for ours, theirs in [("estimate", "estimate"), ("se", "se"), ("stat", "zval"),
                             ("p", "pval"), ("ci_low", "ci_lb"), ("ci_high", "ci_ub"),
                             ("tau2", "tau2"), ("q", "QE"), ("q_p", "QEp"), ("i2", "I2"),
                             ("h2", "H2")]:
            _close(getattr(r, ours), e[theirs], tol)
    _close([res.q_between, res.q_between_p], [v["Q_between"], v["Q_between_p"]], tol)
    assert res.q_between_df == v["Q_between_df"]


@pytest.mark.parametrize("case_id", COM)
def test_common_tau2(case_id):
    v = CASES[case_id]["values"]
    tol = _tol(v["method"])
    res = pool_subgroups(YI, VI, BCG["alloc"], method=v["method"], test=v["test"], tau2="common")
    assert list(res.groups) == v["groups"]
    _close([res.q_between, res.q_between_p, res.tau2, res.qe, res.qe_p],
           [v["QM"], v["QMp"], v["tau2_value"], v["QE"], v["QEp"]], tol)
    assert res.q_between_df == v["QMdf"][0]
    if v["test"] == "knha":
        assert res.q_between_dist == "F" and res.q_between_df2 == v["QMdf"][1]
    for j, g in enumerate(res.groups):
        r = res.subgroups[g]
        for ours, theirs in [("estimate", "estimate"), ("se", "se"), ("stat", "zval"),
                             ("p", "pval"), ("ci_low", "ci_lb"), ("ci_high", "ci_ub")]:
            _close(getattr(r, ours), v[theirs][j], tol)
        _close(r.tau2, v["cell_tau2"], tol)


def test_frame_and_validation():
    res = pool_subgroups(YI, VI, BCG["alloc"], method="DL", scale="log")
    df = res.to_frame()
    assert df["group"].tolist() == ["alternate", "random", "systematic"]
    assert (df["scale"] == "log").all() and df["q_between_df"].eq(2).all()
    with pytest.raises(ValueError, match="two subgroups"):
        pool_subgroups(YI, VI, ["a"] * len(YI))
    with pytest.raises(ValueError, match="missing group label at index 3"):
        pool_subgroups(YI, VI, ["a", "b", "a", None] + ["b"] * (len(YI) - 4))
    with pytest.raises(ValueError, match="tau2"):
        pool_subgroups(YI, VI, BCG["alloc"], tau2="pooled")
