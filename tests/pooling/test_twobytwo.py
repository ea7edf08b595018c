"""Mantel-Haenszel and Peto pooling against metafor's rma.mh() / rma.peto().

Tolerance: rtol = atol = 1e-8.  MH and Peto estimates, variances and tests are
closed-form sums, so only floating-point rounding separates us from R.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from livemeta.pooling.effects import table_from_events
from livemeta.pooling.results import PoolResult
from livemeta.pooling.twobytwo import mh_tests, pool_mh, pool_peto

REF = json.loads((Path(__file__).parent / "reference" / "methods_reference.json").read_text())
CASES = {c["id"]: c for c in REF["cases"]}
DATA = REF["data"]
TOL = dict(rtol=1e-8, atol=1e-8)  # closed form: rounding only


def _close(actual, expected):
    exp = np.nan if expected is None else expected
    np.testing.assert_allclose(actual, exp, equal_nan=True, **TOL)


def _tables(ds):
    d = DATA[ds]
    if ds == "dat.bcg":
        return d["tpos"], d["tneg"], d["cpos"], d["cneg"]
    return table_from_events(d["ai"], d["n1i"], d["ci"], d["n2i"])


MH_IDS = sorted(i for i, c in CASES.items() if c["group"] == "mh")
PETO_IDS = sorted(i for i, c in CASES.items() if c["group"] == "peto")


@pytest.mark.parametrize("case_id", MH_IDS)
def test_pool_mh(case_id):
    v = CASES[case_id]["values"]
    res = pool_mh(*_tables(v["dataset"]), measure=v["measure"], level=v["level"],
                  correct=v["correct"], drop00=v["drop00"])
    assert isinstance(res, PoolResult) and res.method == "MH"
    assert res.k == v["k"] and res.q_df == v["k_yi"] - 1
    for ours, theirs in [("estimate", "estimate"), ("se", "se"), ("stat", "zval"),
                         ("p", "pval"), ("ci_low", "ci_lb"), ("ci_high", "ci_ub"),
                         ("q", "QE"), ("q_p", "QEp"), ("i2", "I2"), ("h2", "H2")]:
        _close(getattr(res, ours), v[theirs])
    assert res.tau2 == 0.0
    assert sum(res.weights) == pytest.approx(100.0)
    if v["measure"] == "OR":
        t = mh_tests(*_tables(v["dataset"]), correct=v["correct"], drop00=v["drop00"])
        for ours, theirs in [("cmh", "MH"), ("cmh_p", "MHp"), ("cochran", "CO"),
                             ("cochran_p", "COp"), ("breslow_day", "BD"),
                             ("breslow_day_p", "BDp"), ("tarone", "TA"), ("tarone_p", "TAp")]:
            _close(getattr(t, ours), v[theirs])


@pytest.mark.parametrize("case_id", PETO_IDS)
def test_pool_peto(case_id):
    v = CASES[case_id]["values"]
    res = pool_peto(*_tables(v["dataset"]))
    assert res.method == "PETO" and res.k == v["k"] and res.q_df == v["k_yi"] - 1
    for ours, theirs in [("estimate", "estimate"), ("se", "se"), ("stat", "zval"),
                         ("p", "pval"), ("ci_low", "ci_lb"), ("ci_high", "ci_ub"),
                         ("q", "QE"), ("q_p", "QEp"), ("i2", "I2"), ("h2", "H2")]:
        _close(getattr(res, ours), v[theirs])


def test_mh_weights_are_mh_weights():
    a, b, c, d = (np.asarray(x, float) for x in _tables("dat.bcg"))
    w = (b * c) / (a + b + c + d)
    np.testing.assert_allclose(pool_mh(a, b, c, d).weights, 100 * w / w.sum(), rtol=1e-12)


def test_mh_result_frame_is_uniform():
    df = pool_mh(*_tables("dat.bcg"), measure="RR").to_frame()
    assert df.shape[0] == 1 and df.loc[0, "method"] == "MH" and df.loc[0, "scale"] == "log"


def test_invalid_input():
    with pytest.raises(ValueError, match="measure"):
        pool_mh([1], [2], [3], [4], measure="HR")
    with pytest.raises(ValueError, match="level"):
        pool_peto([1], [2], [3], [4], level=95)
    with pytest.raises(ValueError, match="negative count in ci at index 0"):
        pool_mh([1], [2], [-3], [4])


# --------------------------------------------------------------- properties
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from livemeta.pooling.effects import log_or, log_rr  # noqa: E402

cells = st.integers(min_value=1, max_value=500)


@settings(max_examples=60, deadline=None)
@given(cells, cells, cells, cells)
def test_single_table_mh_reduces_to_escalc(a, b, c, d):
    # One stratum: MH OR = ad/bc with the Robins-Breslow-Greenland variance equal
    # to Woolf's 1/a+1/b+1/c+1/d; MH RR = (a/n1)/(c/n2) with Greenland-Robins
    # variance equal to escalc's.  Closed form, so 1e-10 relative.
    for measure, f in (("OR", log_or), ("RR", log_rr)):
        res = pool_mh([a], [b], [c], [d], measure=measure)
        yi, vi = f([a], [b], [c], [d])
        assert res.estimate == pytest.approx(yi[0], rel=1e-10, abs=1e-12)
        assert res.se**2 == pytest.approx(vi[0], rel=1e-10)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(cells, cells, cells, cells), min_size=2, max_size=8))
def test_mh_and_peto_are_invariant_to_study_order(tables):
    a, b, c, d = (np.array(x, float) for x in zip(*tables))
    perm = np.arange(a.size)[::-1]
    for f in (lambda *t: pool_mh(*t, measure="OR"), lambda *t: pool_mh(*t, measure="RD"),
              pool_peto):
        r1, r2 = f(a, b, c, d), f(a[perm], b[perm], c[perm], d[perm])
        assert r1.estimate == pytest.approx(r2.estimate, rel=1e-10, abs=1e-14)
        assert r1.q == pytest.approx(r2.q, rel=1e-8, abs=1e-10)
