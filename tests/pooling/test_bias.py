"""Egger's test and trim-and-fill against metafor's regtest() / trimfill().

Tolerances
----------
* Classical Egger and FE/DL regtest: rtol = atol = 1e-8 (closed-form least
  squares; rounding only).
* regtest / trimfill with REML: atol = rtol = 1e-6, because tau^2 comes from
  Fisher scoring that metafor stops at |change| < 1e-5; we replay the same
  iterations, so in practice the difference is at rounding level, but the
  iterative tolerance is what we promise.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from livemeta.pooling.bias import egger_test, trimfill
from livemeta.pooling.effects import log_or, log_rr, table_from_events

REF = json.loads((Path(__file__).parent / "reference" / "methods_reference.json").read_text())
CASES = {c["id"]: c for c in REF["cases"]}
DATA = REF["data"]
CLOSED = dict(rtol=1e-8, atol=1e-8)  # closed form: rounding only
ITER = dict(rtol=1e-6, atol=1e-6)  # REML Fisher scoring (metafor threshold 1e-5)


def _close(actual, expected, tol):
    exp = np.array([np.nan if e is None else e for e in np.atleast_1d(expected)], float)
    np.testing.assert_allclose(np.atleast_1d(np.asarray(actual, float)), exp,
                               equal_nan=True, **tol)


def _data(ds):
    if ds == "dat.bcg":
        d = DATA["dat.bcg"]
        return log_rr(d["tpos"], d["tneg"], d["cpos"], d["cneg"])
    d = DATA["dat.egger2001"]
    return log_or(*table_from_events(d["ai"], d["n1i"], d["ci"], d["n2i"]))


@pytest.mark.parametrize("case_id", ["regtest_egger2001_lm", "regtest_bcg_lm"])
def test_classical_egger_matches_regtest_lm(case_id):
    v = CASES[case_id]["values"]
    res = egger_test(*_data(v["dataset"]))
    c = res.classical
    _close(c.t, v["zval"], CLOSED)
    _close(c.p, v["pval"], CLOSED)
    assert c.df == v["dfs"]
    _close([c.slope, c.slope_ci_low, c.slope_ci_high], [v["est"], v["ci_lb"], v["ci_ub"]], CLOSED)
    if "slope" in v:  # regtest's lm slope on sei == Egger's intercept
        _close([c.intercept, c.intercept_se, c.sigma], [v["slope"], v["slope_se"], v["sigma"]],
               CLOSED)


RMA_IDS = sorted(i for i in CASES if i.startswith("regtest_egger2001_rma_"))


@pytest.mark.parametrize("case_id", RMA_IDS)
def test_regtest_rma(case_id):
    v = CASES[case_id]["values"]
    test = v.get("test", "z")
    res = egger_test(*_data(v["dataset"]), method=v["method"], test=test)
    r = res.rma
    tol = ITER if v["method"] in ("REML", "ML") else CLOSED
    _close(r.stat, v["zval"], tol)
    _close(r.p, v["pval"], tol)
    _close([r.limit_estimate, r.limit_ci_low, r.limit_ci_high],
           [v["est"], v["ci_lb"], v["ci_ub"]], tol)
    _close(r.tau2, v["tau2"], tol)
    if "slope" in v:
        _close([r.coef_sei, r.se], [v["slope"], v["slope_se"]], tol)
    if test == "knha":
        assert r.df == v["dfs"]


def test_egger_frame_labels_both_variants():
    df = egger_test(*_data("dat.egger2001"), method="FE").to_frame()
    assert df["variant"].tolist() == ["classical", "rma"]
    assert df.loc[1, "method"] == "FE"


def test_egger_needs_three_studies():
    with pytest.raises(ValueError, match="k >= 3"):
        egger_test([0.1, 0.2], [0.01, 0.02])


TF_IDS = sorted(i for i, c in CASES.items() if c["group"] == "trimfill")


@pytest.mark.parametrize("case_id", TF_IDS)
def test_trimfill(case_id):
    v = CASES[case_id]["values"]
    call = CASES[case_id]["call"]
    side = "right" if 'side = "right"' in call else None
    res = trimfill(*_data(v["dataset"]), method=v["method"], estimator=v["estimator"], side=side)
    tol = ITER if v["method"] == "REML" else CLOSED
    assert res.k0 == v["k0"] and res.side == v["side"]
    _close(res.se_k0, v["se_k0"], tol)
    _close(res.p_k0, v["p_k0"], CLOSED)
    _close(res.yi, v["yi"], tol)
    _close(res.vi, v["vi"], CLOSED)
    assert res.filled.tolist() == v["fill"]
    p = res.pooled
    assert p.k == v["k"]
    for ours, theirs in [("estimate", "estimate"), ("se", "se"), ("stat", "zval"), ("p", "pval"),
                         ("ci_low", "ci_lb"), ("ci_high", "ci_ub"), ("tau2", "tau2"),
                         ("q", "QE"), ("q_p", "QEp"), ("i2", "I2"), ("h2", "H2")]:
        _close(getattr(p, ours), v[theirs], tol)


def test_trimfill_no_missing_studies_returns_original_fit():
    # Symmetric funnel: nothing to fill.
    yi = np.array([-0.2, 0.0, 0.2, -0.1, 0.1])
    vi = np.array([0.04, 0.01, 0.04, 0.02, 0.02])
    res = trimfill(yi, vi, method="FE")
    assert res.k0 == 0 and res.yi.size == 5 and not res.filled.any()
