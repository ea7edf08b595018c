"""Edge cases of pool() / confint_tau2(): k = 1, k = 2, identical effects, the tau2 = 0
boundary, extreme variances, invalid input, non-convergence, result shape.

Values quoted from metafor were printed by R 4.2.2 / metafor 3.8-1 with the
call shown beside them (they are also part of the reference JSON where noted).
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from livemeta.pooling import (
    METHODS,
    SCALAR_FIELDS,
    TESTS,
    PoolResult,
    back_transform,
    confint_tau2,
    pool,
)

# dat.bcg log risk ratios, escalc("RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg),
# as stored (%.17g) in the reference JSON
_REF = json.loads((Path(__file__).parent / "reference" / "rma_reference.json").read_text())
BCG_YI = _REF["datasets"]["bcg_logRR"]["yi"]
BCG_VI = _REF["datasets"]["bcg_logRR"]["vi"]


@pytest.fixture(autouse=True)
def _no_runtime_warnings():
    """pool() must not leak numpy RuntimeWarnings (division by zero, overflow ...)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


# ---------------------------------------------------------------------- k = 1
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("test", TESTS)
def test_single_study_is_the_study(method, test):
    # metafor: rma(0.5, 0.1, method=...) -> beta 0.5, se 0.3162278, pval 0.1138463,
    # ci -0.1197950..1.1197950, tau2 0, I2 0, H2 1, QE 0, QEp 1, se.tau2 NA;
    # test="knha" is reset to "z" with a warning ("Setting argument test="z" since k=1").
    r = pool([0.5], [0.1], method=method, test=test)
    assert r.converged and r.k == 1
    assert r.estimate == 0.5 and r.se == math.sqrt(0.1)
    assert r.test == "z" and math.isnan(r.df)
    assert round(r.p, 7) == 0.1138463
    assert round(r.ci_low, 7) == -0.1197950 and round(r.ci_high, 7) == 1.1197950
    assert (r.tau2, r.q, r.q_df, r.q_p, r.i2, r.h2, r.i2_q) == (0.0, 0.0, 0, 1.0, 0.0, 1.0, 0.0)
    assert math.isnan(r.tau2_se)
    assert r.weights == (100.0,)
    assert (r.pi_low, r.pi_high) == (r.ci_low, r.ci_high)  # tau2 = 0: PI = CI
    if test == "knha":
        assert "k = 1" in r.message


# ---------------------------------------------------------------------- k = 2
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("test", TESTS)
def test_two_studies(method, test):
    r = pool([0.1, 0.9], [0.04, 0.09], method=method, test=test)
    assert r.converged and r.k == 2 and r.q_df == 1
    for f in ("estimate", "se", "stat", "p", "ci_low", "ci_high", "tau2", "i2", "h2", "q", "pi_low", "pi_high"):
        assert math.isfinite(getattr(r, f)), f
    if test == "knha":
        assert r.df == 1.0
        assert r.ci_high - r.ci_low > 2 * stats.norm.isf(0.025) * r.se  # t(1) is wide
    assert math.isnan(pool([0.1, 0.9], [0.04, 0.09], method=method, pi="t(k-2)").pi_low) or method == "FE"


# ------------------------------------------------------------ identical yi
@pytest.mark.parametrize("method", METHODS)
def test_identical_effects(method):
    yi, vi = [0.3] * 4, [0.1, 0.2, 0.05, 0.4]
    r = pool(yi, vi, method=method)
    assert r.converged
    assert r.estimate == pytest.approx(0.3, abs=1e-15)
    assert r.tau2 == 0.0 and r.q == pytest.approx(0.0, abs=1e-25) and r.q_p == pytest.approx(1.0)
    assert r.i2_q == 0.0
    if method == "FE":
        # metafor: I2 = max(0, 100 (QE - df) / QE) = 0 and H2 = QE / df = 0 when QE = 0
        assert r.i2 == 0.0 and r.h2 == pytest.approx(0.0, abs=1e-25)
    else:
        assert r.i2 == 0.0 and r.h2 == 1.0
    # knha: metafor sets s2w = 0 when the weighted RSS <= .Machine$double.eps,
    # giving se = 0, zval = Inf, pval = 0 and a zero-width CI
    # (rma(c(.5,.5,.5), c(.1,.2,.3), method="REML", test="knha"))
    rk = pool(yi, vi, method=method, test="knha")
    assert rk.se == 0.0 and rk.stat == math.inf and rk.p == 0.0
    assert rk.ci_low == rk.ci_high == rk.estimate


def test_identical_effects_at_zero_stat_is_nan():
    rk = pool([0.0, 0.0, 0.0], [0.1, 0.2, 0.3], method="DL", test="knha")
    assert rk.se == 0.0 and math.isnan(rk.stat)  # 0/0, as in R


# ------------------------------------------------------------- tau2 boundary
@pytest.mark.parametrize("method", [m for m in METHODS if m not in ("FE", "SJ")])
def test_homogeneous_data_gives_tau2_zero(method):
    yi = [0.10, 0.12, 0.09, 0.11, 0.10]
    vi = [0.05, 0.04, 0.06, 0.05, 0.07]
    r = pool(yi, vi, method=method)
    assert r.q < r.q_df
    assert r.tau2 == 0.0 and r.i2 == 0.0 and r.h2 == 1.0 and r.i2_q == 0.0
    fe = pool(yi, vi, method="FE")
    assert r.estimate == pytest.approx(fe.estimate, rel=1e-14)
    assert r.se == pytest.approx(fe.se, rel=1e-14)
    ci = confint_tau2(yi, vi, method=method)
    assert ci.tau2_low == 0.0 and ci.tau2_low_truncated
    assert ci.ci_null and ci.tau2_high == 0.0 and ci.lb_sign == ci.ub_sign == "<"


def test_sj_is_positive_on_homogeneous_data():
    # Sidik-Jonkman cannot give 0 unless all yi are equal (metafor docs)
    r = pool([0.10, 0.12, 0.09, 0.11, 0.10], [0.05, 0.04, 0.06, 0.05, 0.07], method="SJ")
    assert r.tau2 > 0.0


def test_confint_lower_bound_truncated_but_upper_positive():
    # Q(0) between the two chi-square quantiles: lower bound 0, upper bound > 0
    yi, vi = [0.0, 0.5, -0.3, 0.6, 0.1], [0.1, 0.1, 0.1, 0.1, 0.1]
    ci = confint_tau2(yi, vi, method="DL")
    assert ci.tau2_low == 0.0 and ci.tau2_low_truncated and ci.lb_sign == ""
    assert ci.tau2_high > 0.0 and not ci.tau2_high_truncated and not ci.ci_null


def test_confint_errors():
    with pytest.raises(ValueError, match="FE"):
        confint_tau2(BCG_YI, BCG_VI, method="FE")
    with pytest.raises(ValueError, match="k >= 2"):
        confint_tau2([0.1], [0.1])


# ---------------------------------------------------------- extreme variances
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("test", TESTS)
def test_extreme_variances_do_not_blow_up(method, test):
    yi = [1.0, 2.0, 3.0, 10.0]
    vi = [1e-12, 1e6, 1.0, 1.0]
    r = pool(yi, vi, method=method, test=test)
    assert r.converged, r.message
    for f in ("estimate", "se", "p", "ci_low", "ci_high", "tau2", "i2", "h2", "q", "pi_low", "pi_high"):
        assert math.isfinite(getattr(r, f)), f
    assert 0.0 <= r.i2 <= 100.0 and sum(r.weights) == pytest.approx(100.0)
    # metafor 3.8-1 (rma(c(1,2,3,10), c(1e-12,1e6,1,1), method=...)): beta / tau2
    expected = {
        "FE": (1.0, 0.0), "DL": (4.607980601, 20.49964193), "REML": (4.610952028, 21.61148303),
        "ML": (1.0, 0.0), "PM": (4.582540461, 14.19731074), "EB": (1.000000001, 1.093347875e-10),
        "SJ": (4.582028407, 14.10937499), "HE": (1.0, 0.0), "HS": (1.000000001, 8.100109063e-11),
    }[method]
    # metafor itself loses digits here (its P matrix has W - w_i cancellation
    # with weights 1e12 vs 1e-6), hence only 1e-4 relative
    assert r.estimate == pytest.approx(expected[0], rel=1e-4)
    assert r.tau2 == pytest.approx(expected[1], rel=1e-4, abs=1e-12)


def test_huge_spread_many_studies():
    rng = np.random.default_rng(5)
    vi = 10.0 ** rng.uniform(-12, 6, size=40)
    yi = rng.normal(0, 1, size=40)
    for method in METHODS:
        r = pool(yi, vi, method=method, test="knha", control={"maxiter": 1000})
        assert r.converged, (method, r.message)  # every estimator converges on this spread (maxiter 1000)
        assert math.isfinite(r.estimate) and math.isfinite(r.se) and math.isfinite(r.tau2) and r.tau2 >= 0


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("yi", "vi", "match"),
    [
        ([0.1, np.nan, 0.3], [0.1, 0.1, 0.1], r"yi\[1\]"),
        ([0.1, 0.2, np.inf], [0.1, 0.1, 0.1], r"yi\[2\]"),
        ([0.1, 0.2, 0.3], [0.1, -0.1, 0.1], r"vi\[1\].*> 0"),
        ([0.1, 0.2, 0.3], [0.1, 0.1, 0.0], r"vi\[2\].*> 0"),
        ([0.1, 0.2, 0.3], [np.nan, 0.1, 0.1], r"vi\[0\]"),
        ([0.1, 0.2, 0.3], [0.1, np.inf, 0.1], r"vi\[1\]"),
        ([0.1, 0.2, 0.3], [0.1, 0.1], "different lengths"),
        ([], [], "empty"),
        ([[0.1, 0.2]], [[0.1, 0.2]], "1-D"),
    ],
)
def test_invalid_input_raises(yi, vi, match):
    with pytest.raises(ValueError, match=match):
        pool(yi, vi)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "GENQ"}, "unknown method"),
        ({"test": "t"}, "unknown test"),
        ({"level": 95}, "level"),
        ({"level": 0.0}, "level"),
        ({"pi": "riley"}, "unknown pi"),
        ({"control": {"maxit": 3}}, "unknown control"),
        ({"control": {"maxiter": 0}}, "maxiter"),
        ({"control": {"tau2_max": -1.0}}, "tau2_max"),
    ],
)
def test_invalid_options_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pool([0.1, 0.2], [0.1, 0.1], **kwargs)


def test_method_aliases_and_case():
    a = pool(BCG_YI, BCG_VI, method="EE")
    b = pool(BCG_YI, BCG_VI, method="fe")
    assert a.method == b.method == "FE" and a.estimate == b.estimate


# ------------------------------------------------------------ non-convergence
@pytest.mark.parametrize("method", ["REML", "ML", "EB"])
def test_fisher_scoring_not_converged_is_reported(method):
    # metafor: rma(yi, vi, method=..., control=list(maxiter=2)) stops with
    # "Fisher scoring algorithm did not converge." (reference case bcg_logRR/.../maxiter2)
    r = pool(BCG_YI, BCG_VI, method=method, control={"maxiter": 2})
    assert not r.converged
    assert "Fisher scoring did not converge" in r.message
    assert r.n_iter == 3  # metafor's loop stops once iter > maxiter
    for f in ("estimate", "se", "p", "ci_low", "tau2", "i2", "h2", "pi_low", "tau2_se"):
        assert math.isnan(getattr(r, f)), f
    assert all(math.isnan(w) for w in r.weights)
    assert r.q == pytest.approx(152.2330, abs=1e-4) and r.q_df == 12  # Q does not depend on tau2
    assert 0 < r.i2_q < 100


def test_oscillating_fisher_scoring_stops():
    """REML Fisher scoring that cycles between two values (metafor errors) stops at maxiter."""
    rng = np.random.default_rng(2024)
    for _ in range(2000):
        k = int(rng.integers(3, 21))
        vi = 10.0 ** rng.uniform(-2.5, 0.5, size=k)
        yi = rng.normal(0, np.sqrt(vi + 0.02))
        r = pool(yi, vi, method="REML")
        if not r.converged:
            break
    else:  # pragma: no cover - depends on the RNG stream
        pytest.fail("no oscillating data set found")
    assert r.n_iter == 101 and "Fisher scoring" in r.message
    # metafor's remedy works here too
    r2 = pool(yi, vi, method="REML", control={"stepadj": 0.5, "maxiter": 1000})
    assert r2.converged and r2.tau2 >= 0


def test_pm_tau2_max_too_low():
    # rma(yi, vi, method="PM", control=list(tau2.max=0.01)) on dat.bcg: "Value of 'tau2.max' too low."
    r = pool(BCG_YI, BCG_VI, method="PM", control={"tau2.max": 0.01})
    assert not r.converged and "tau2.max' too low" in r.message
    assert math.isnan(r.tau2)
    # mad(yi) = 0 and a far outlier: metafor's default tau2.max = max(100, 10 mad^2) = 100
    # is too low: rma(c(0,0,1000), c(.01,.01,.01), method="PM") stops with that error,
    # while method="EB" converges to tau2 = 333333.3233 (SE = 333333.3333), estimate 333.3333
    r = pool([0.0, 0.0, 1000.0], [0.01, 0.01, 0.01], method="PM")
    assert not r.converged and "tau2.max' too low" in r.message
    eb = pool([0.0, 0.0, 1000.0], [0.01, 0.01, 0.01], method="EB")
    assert eb.converged
    assert round(eb.tau2, 4) == 333333.3233 and round(eb.tau2_se, 4) == 333333.3333
    assert round(eb.estimate, 4) == 333.3333


# ----------------------------------------------------------- prediction intervals
def test_pi_closed_forms():
    r = pool(BCG_YI, BCG_VI, method="REML")
    k = len(BCG_YI)
    s = math.sqrt(r.se**2 + r.tau2)
    z = stats.norm.isf(0.025)
    assert (r.pi_low, r.pi_high) == pytest.approx((r.estimate - z * s, r.estimate + z * s), rel=1e-14)
    assert r.pi_dist == "normal"
    for pi, df in (("t(k-1)", k - 1), ("t(k-2)", k - 2)):
        rp = pool(BCG_YI, BCG_VI, method="REML", pi=pi)
        t = stats.t.isf(0.025, df)
        assert rp.pi_dist == pi
        assert (rp.pi_low, rp.pi_high) == pytest.approx((r.estimate - t * s, r.estimate + t * s), rel=1e-13)
    rn = pool(BCG_YI, BCG_VI, method="REML", test="knha", pi="normal")
    sk = math.sqrt(rn.se**2 + rn.tau2)
    assert rn.pi_high == pytest.approx(rn.estimate + z * sk, rel=1e-14)
    rk = pool(BCG_YI, BCG_VI, method="REML", test="knha")
    assert rk.pi_dist == "t(k-1)"
    # metafor predict(rma(yi, vi, data=dat), pi.type="riley") for dat.bcg log RR:
    # pi -2.0084 .. 0.5793 (printed by R 4.2.2 / metafor 3.8-1)
    rr = pool(BCG_YI, BCG_VI, method="REML", pi="t(k-2)")
    assert round(rr.pi_low, 4) == -2.0084 and round(rr.pi_high, 4) == 0.5793


def test_pi_level():
    r90 = pool(BCG_YI, BCG_VI, method="DL", level=0.90)
    r95 = pool(BCG_YI, BCG_VI, method="DL")
    assert r90.ci_high - r90.ci_low < r95.ci_high - r95.ci_low
    assert r90.pi_high - r90.pi_low < r95.pi_high - r95.pi_low
    assert r90.level == 0.90


def test_fe_pi_equals_ci():
    for test in TESTS:
        r = pool(BCG_YI, BCG_VI, method="FE", test=test)
        assert (r.pi_low, r.pi_high) == (r.ci_low, r.ci_high)
        assert r.pi_dist == ("normal" if test == "z" else "t(k-1)")


# ------------------------------------------------------------ result object
def test_result_shape_uniform():
    frames = [pool(BCG_YI, BCG_VI, method=m, test=t).to_frame() for m in METHODS for t in TESTS]
    assert all(list(f.columns) == list(SCALAR_FIELDS) and len(f) == 1 for f in frames)
    r = pool(BCG_YI, BCG_VI, method="REML")
    d = r.to_dict()
    assert set(d) == set(SCALAR_FIELDS) | {"weights"} and isinstance(d["weights"], list)
    assert "weights" not in r.to_dict(include_weights=False)
    with pytest.raises(AttributeError):
        r.tau2 = 1.0  # frozen
    assert isinstance(r, PoolResult) and isinstance(r.k, int) and isinstance(r.converged, bool)
    assert r.significant


def test_i2_q_definition():
    r = pool(BCG_YI, BCG_VI, method="REML")
    assert r.i2_q == pytest.approx(100 * (r.q - r.q_df) / r.q, rel=1e-14)
    fe = pool(BCG_YI, BCG_VI, method="FE")
    assert fe.i2 == pytest.approx(r.i2_q, rel=1e-14)  # metafor's FE I2 is the Q-based one


def test_back_transform():
    assert back_transform(0.0) == 1.0
    assert back_transform(math.log(2.0), "log") == pytest.approx(2.0)
    np.testing.assert_allclose(back_transform(np.array([0.0, 1.0])), [1.0, math.e])
    assert back_transform(0.3, "identity") == 0.3
    assert back_transform(0.0, "logit") == 0.5  # metafor transf.ilogit (plogis)
    assert back_transform(math.log(0.25 / 0.75), "logit") == pytest.approx(0.25, abs=1e-15)
    with pytest.raises(ValueError, match="unknown scale"):
        back_transform(0.3, "fisher_z")
    r = pool(BCG_YI, BCG_VI, method="REML", scale="log")
    bt = r.back_transformed()
    assert bt["estimate"] == pytest.approx(math.exp(r.estimate))
    assert bt["ci_low"] < bt["estimate"] < bt["ci_high"]
    # metafor: predict(res, transf=exp) for dat.bcg REML: 0.4894 [0.3441, 0.6962]
    assert round(bt["estimate"], 4) == 0.4894 and round(bt["ci_low"], 4) == 0.3441


def test_a_percent_level_is_refused_naming_the_fraction():
    """The engine takes a fraction (0.95); a percent (95, the study files' form) is refused with the right form."""
    import pytest as _pytest

    from livemeta.pooling import pool as _pool

    with _pytest.raises(ValueError, match=r"level must be in \(0, 1\), got 95 \(a fraction: 0.95 for a 95% CI\)"):
        _pool([0.1, 0.2], [0.01, 0.02], level=95)
