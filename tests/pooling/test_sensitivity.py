"""Leave-one-out and cumulative meta-analysis (dat.bcg log RR) against metafor.

Tolerances
----------
* FE and DL: rtol = atol = 1e-8 (closed form; rounding only).
* REML: rtol = atol = 1e-6 (tau^2 by Fisher scoring, which metafor stops at
  |change| < 1e-5).
"""

import json
from pathlib import Path

import numpy as np
import pytest

from livemeta.pooling.effects import log_rr
from livemeta.pooling.sensitivity import cumulative, leave_one_out

REF = json.loads((Path(__file__).parent / "reference" / "methods_reference.json").read_text())
CASES = {c["id"]: c for c in REF["cases"]}
BCG = REF["data"]["dat.bcg"]
CLOSED = dict(rtol=1e-8, atol=1e-8)
ITER = dict(rtol=1e-6, atol=1e-6)
YI, VI = log_rr(BCG["tpos"], BCG["tneg"], BCG["cpos"], BCG["cneg"])
PAIRS = [("estimate", "estimate"), ("se", "se"), ("stat", "zval"), ("p", "pval"),
         ("ci_low", "ci_lb"), ("ci_high", "ci_ub"), ("q", "QE"), ("q_p", "QEp"),
         ("tau2", "tau2"), ("i2", "I2"), ("h2", "H2")]


def _check(res, v):
    tol = ITER if v["method"] == "REML" else CLOSED
    for ours, theirs in PAIRS:
        np.testing.assert_allclose(getattr(res, ours), np.asarray(v[theirs], float),
                                   err_msg=ours, **tol)


@pytest.mark.parametrize("case_id", sorted(i for i, c in CASES.items() if c["group"] == "leave1out"))
def test_leave_one_out(case_id):
    v = CASES[case_id]["values"]
    res = leave_one_out(YI, VI, method=v["method"], test=v["test"])
    assert res.index.tolist() == list(range(len(YI)))
    _check(res, v)


@pytest.mark.parametrize("case_id", sorted(i for i, c in CASES.items() if c["group"] == "cumul"))
def test_cumulative_by_year(case_id):
    v = CASES[case_id]["values"]
    res = cumulative(YI, VI, BCG["year"], method=v["method"], test=v["test"])
    # metafor's slab ids are 1-based; the two 1973 studies (5, 7) keep input order
    assert (res.index + 1).tolist() == v["order_ids"]
    _check(res, v)


def test_cumulative_stable_ties_and_decreasing():
    key = [2, 1, 2, 1]
    y, v = [0.1, 0.2, 0.3, 0.4], [0.1, 0.1, 0.1, 0.1]
    assert cumulative(y, v, key, method="FE").index.tolist() == [1, 3, 0, 2]
    # R: order(c(2, 1, 2, 1), decreasing = TRUE) == c(1, 3, 2, 4)
    assert cumulative(y, v, key, decreasing=True, method="FE").index.tolist() == [0, 2, 1, 3]
    assert cumulative(y, v, method="FE").index.tolist() == [0, 1, 2, 3]


def test_frames():
    df = leave_one_out(YI, VI, method="DL", scale="log").to_frame()
    assert df["omitted"].tolist() == list(range(13)) and (df["k"] == 12).all()
    df = cumulative(YI, VI, BCG["year"], method="FE").to_frame()
    assert df["k"].tolist() == list(range(1, 14)) and df["added"].iloc[0] == 0


def test_validation():
    with pytest.raises(ValueError, match="k >= 2"):
        leave_one_out([0.1], [0.1])
    with pytest.raises(ValueError, match="order has length"):
        cumulative(YI, VI, [1, 2])
    with pytest.raises(ValueError, match="index 2"):
        leave_one_out([0.1, 0.2, 0.3], [0.1, 0.1, -0.1])


def test_steps_equal_direct_pooling():
    from livemeta.pooling import pool

    loo = leave_one_out(YI, VI, method="REML")
    r = pool(np.delete(YI, 4), np.delete(VI, 4), method="REML")
    assert loo.results[4].to_frame().equals(r.to_frame())  # equals(): nan == nan
    assert loo.results[4].weights == r.weights
    cum = cumulative(YI, VI, BCG["year"], method="DL")
    # same studies in another order: equal up to summation rounding
    assert cum.results[-1].estimate == pytest.approx(pool(YI, VI, method="DL").estimate, rel=1e-12)


@pytest.mark.parametrize("method", ["FE", "DL", "REML", "PM"])
@pytest.mark.parametrize("test", ["z", "knha"])
def test_each_cumulative_step_is_the_pool_of_its_prefix(method, test):
    """One pass (issue 15): FE from running sums (O(1) per prefix; equal to pool() up to the
    rounding of the sums), the other estimators by the engine on each prefix (bit for bit); each
    step's PoolResult, weights included, made when asked for."""
    from livemeta.pooling import pool

    rng = np.random.default_rng(15)
    y, v = rng.normal(0, 0.5, 40), 10 ** rng.uniform(-2, 0, 40)
    res = cumulative(y, v, rng.integers(0, 10, 40), method=method, test=test, scale="log")
    frame = res.to_frame()
    for j in (0, 1, 2, 17, 39):
        mine, want = res.results[j], pool(y[res.index[: j + 1]], v[res.index[: j + 1]], method=method, test=test,
                                          scale="log")
        for f in ("k", "test", "pi_dist", "converged", "message", "q_df"):
            assert getattr(mine, f) == getattr(want, f) == frame[f].iloc[j], f
        for f in ("estimate", "se", "p", "ci_low", "ci_high", "q", "q_p", "tau2", "i2", "h2", "pi_low", "pi_high"):
            a, b = getattr(mine, f), getattr(want, f)
            assert a == pytest.approx(b, rel=1e-12, abs=1e-14, nan_ok=True), f
            assert a == getattr(res, f, frame[f])[j] or (np.isnan(a) and np.isnan(frame[f].iloc[j])), f
            if method != "FE":
                assert a == b or (np.isnan(a) and np.isnan(b)), f  # the same computation
        np.testing.assert_allclose(mine.weights, want.weights, rtol=1e-12)
    assert len(res.results) == 40 and res.results[-1].k == 40 and len(res.results[-2:]) == 2
