"""Property tests (hypothesis) for pool(): order invariance, shift equivariance,
weights, and basic consistency of intervals.

Tolerances:

* closed-form estimators (FE, DL, HE, SJ, HS): ``1e-9`` relative to
  ``max(1, |value|)`` - reordering or shifting the studies only changes
  floating-point rounding of the sums;
* iterative estimators (REML, ML, PM, EB): ``1e-5`` - a rounding change can
  move the stopping decision of Fisher scoring (|change| < 1e-5) or of the root
  finder (bracket < 1.2e-4) by one iteration, so two mathematically equal
  problems may stop at slightly different points of the same convergent
  sequence.  (The reference tests pin the actual values to 1e-6.)
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livemeta.pooling import METHODS, TESTS, pool

ITERATIVE = {"REML", "ML", "PM", "EB"}
COMPARED = ("estimate", "se", "stat", "p", "ci_low", "ci_high", "tau2", "i2", "h2", "q", "q_p", "pi_low", "pi_high")


def _tol(method: str) -> float:
    return 1e-5 if method in ITERATIVE else 1e-9


def _close(a: float, b: float, tol: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


@st.composite
def meta_data(draw, min_k: int = 2, max_k: int = 15):
    k = draw(st.integers(min_k, max_k))
    yi = draw(st.lists(st.floats(-3.0, 3.0, allow_nan=False), min_size=k, max_size=k))
    log_vi = draw(st.lists(st.floats(-3.0, 1.0), min_size=k, max_size=k))
    return np.array(yi), 10.0 ** np.array(log_vi)


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(data=meta_data(), method=st.sampled_from(METHODS), test=st.sampled_from(TESTS), seed=st.integers(0, 2**32 - 1))
def test_invariant_to_study_order(data, method, test, seed):
    yi, vi = data
    perm = np.random.default_rng(seed).permutation(yi.size)
    a = pool(yi, vi, method=method, test=test)
    b = pool(yi[perm], vi[perm], method=method, test=test)
    assert a.converged == b.converged
    if not a.converged:
        return
    for f in COMPARED:
        assert _close(getattr(a, f), getattr(b, f), _tol(method)), f
    # the weights travel with their studies
    np.testing.assert_allclose(np.array(a.weights)[perm], b.weights, rtol=_tol(method), atol=1e-12)


@SETTINGS
@given(
    data=meta_data(),
    shift=st.floats(-5.0, 5.0, allow_nan=False),
    method=st.sampled_from(METHODS),
    test=st.sampled_from(TESTS),
)
def test_equivariant_to_shift(data, shift, method, test):
    yi, vi = data
    a = pool(yi, vi, method=method, test=test)
    b = pool(yi + shift, vi, method=method, test=test)
    assert a.converged == b.converged
    if not a.converged:
        return
    tol = _tol(method)
    for f in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high"):
        assert _close(getattr(a, f) + shift, getattr(b, f), tol), f
    for f in ("se", "tau2", "i2", "h2", "q"):
        # (q and tau2 are computed from residuals: unchanged up to the rounding of yi + shift)
        assert _close(getattr(a, f), getattr(b, f), max(tol, 1e-8)), f


@SETTINGS
@given(data=meta_data(min_k=1), method=st.sampled_from(METHODS), test=st.sampled_from(TESTS))
def test_weights_and_intervals(data, method, test):
    yi, vi = data
    r = pool(yi, vi, method=method, test=test)
    if not r.converged:
        assert r.message
        return
    assert len(r.weights) == r.k
    assert math.isclose(sum(r.weights), 100.0, rel_tol=1e-12)
    assert all(w > 0 for w in r.weights)
    if method == "FE" or r.tau2 == 0:
        w = (1 / vi) / np.sum(1 / vi) * 100
        np.testing.assert_allclose(r.weights, w, rtol=1e-12)
    assert r.tau2 >= 0 and 0 <= r.i2 <= 100 and 0 <= r.i2_q <= 100
    assert 0 <= r.p <= 1 or math.isnan(r.p)
    assert r.ci_low <= r.estimate <= r.ci_high
    assert r.pi_low <= r.ci_low + 1e-12 and r.pi_high >= r.ci_high - 1e-12
    if method != "FE" and r.k > 1:
        assert r.h2 >= 1.0
    assert r.q >= 0 and r.q_df == r.k - 1


@SETTINGS
@given(data=meta_data(min_k=3), scale=st.floats(0.01, 100.0), method=st.sampled_from(["FE", "DL", "HE", "SJ", "HS"]))
def test_scale_equivariance_closed_forms(data, scale, method):
    """yi * c, vi * c^2 -> estimate * c, tau2 * c^2; I2, Q, p unchanged (closed forms only:
    the iterative stopping rules use absolute thresholds)."""
    yi, vi = data
    a = pool(yi, vi, method=method)
    b = pool(yi * scale, vi * scale**2, method=method)
    for f, power in (("estimate", 1), ("se", 1), ("tau2", 2), ("i2", 0), ("q", 0), ("p", 0)):
        assert _close(getattr(a, f) * scale**power, getattr(b, f), 1e-8), f


def _engine(y, v, **kw):
    """pool() through the vectorised engine, as pool_many fits each analysis."""
    from livemeta.pooling.core import _Control, _fit, _result_at, _Segments

    out = _fit(_Segments(np.array([y.size])), y, v, ctl=_Control(), **kw)
    return _result_at(out, 0, method=kw["method"], level=kw["level"], scale="identity", weights=out["weights"])


@st.composite
def wide_data(draw):
    """k = 1..30, variances over 12 orders of magnitude, sometimes all outcomes equal."""
    k = draw(st.integers(1, 30))
    log_vi = draw(st.lists(st.floats(-12.0, 3.0), min_size=k, max_size=k))
    if draw(st.booleans()):
        yi = [draw(st.floats(-2.0, 2.0))] * k
    else:
        yi = draw(st.lists(st.floats(-5.0, 5.0, allow_nan=False), min_size=k, max_size=k))
    return np.array(yi, dtype=float), 10.0 ** np.array(log_vi)


@given(wide_data(), st.sampled_from(["FE", "DL"]), st.sampled_from(TESTS),
       st.sampled_from(["default", "normal", "t(k-1)", "t(k-2)"]), st.sampled_from([0.95, 0.9, 0.8]))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_one_closed_form_analysis_is_the_engine_bit_for_bit(data, method, test, pi, level):
    """pool()'s scalar path for one FE or DL analysis (issue 15: one call under 50 us) computes
    what the engine computes, operation for operation: every field equal, bit for bit."""
    y, v = data
    fast = pool(y, v, method=method, test=test, pi=pi, level=level)
    slow = _engine(y, v, method=method, test=test, pi=pi, level=level)
    for f in fast.__slots__:
        a, b = getattr(fast, f), getattr(slow, f)
        same = a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))
        assert same, (f, a, b)
