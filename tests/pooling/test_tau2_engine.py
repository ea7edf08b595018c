"""One tau^2 engine: every model estimates tau^2 with the same estimators and controls.

The metafor numbers for the moderator models are in test_metareg_reference.py;
here: the models agree with each other where they must, and the controls and
the PM search limit act in every model (the old private meta-regression
helper had its own estimators and a PM search capped at tau2 = 100).
"""

from __future__ import annotations

import numpy as np
import pytest

from livemeta.pooling import METHODS, egger_test, metareg, pool, pool_subgroups

RNG = np.random.default_rng(20240612)
Y = RNG.normal(-0.3, 0.5, 12)
V = RNG.uniform(0.01, 0.2, 12)
X1 = RNG.normal(0, 1, 12)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("test", ["z", "knha"])
def test_intercept_only_metareg_is_pool(method, test):
    r = pool(Y, V, method=method, test=test)
    m = metareg(Y, V, method=method, test=test)
    assert m.p == 1 and m.names == ("intrcpt",)
    # same estimator; the two linear-algebra paths differ by rounding only
    np.testing.assert_allclose(m.tau2, r.tau2, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose([m.beta[0], m.se[0], m.ci_low[0], m.ci_high[0], m.pval[0]],
                               [r.estimate, r.se, r.ci_low, r.ci_high, r.p], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose([m.qe, m.i2, m.h2], [r.q, r.i2, r.h2], rtol=1e-10, atol=1e-12)
    if method != "FE":
        np.testing.assert_allclose(m.tau2_se, r.tau2_se, rtol=1e-10)
    assert m.n_iter == r.n_iter
    assert np.isnan(m.r2)  # metafor reports no R^2 for an intercept-only model


def test_pm_search_limit_follows_the_data_in_every_model():
    # tau2 near 400: beyond the fixed limit 100 of the old helper; metafor (and
    # now every model) searches up to max(100, 10 * mad(yi)^2)
    y = Y * 40.0
    r = pool(y, V, method="PM")
    assert r.converged and r.tau2 > 100
    sub = pool_subgroups(y, V, np.repeat(["a", "b"], 6), method="PM", tau2="common")
    assert np.isfinite(sub.tau2) and sub.tau2 > 100
    m = metareg(y, V, X1, method="PM")
    assert m.converged and m.tau2 > 100
    e = egger_test(y, V, method="PM")
    assert np.isfinite(e.rma.tau2) and e.rma.tau2 > 100


def test_pm_limit_from_control_stops_every_model_alike():
    y = Y * 40.0
    r = pool(y, V, method="PM", control={"tau2.max": 50})
    m = metareg(y, V, X1, method="PM", control={"tau2.max": 50})
    assert not r.converged and not m.converged
    assert "tau2_max" in r.message and "tau2_max" in m.message
    assert np.isnan(m.tau2) and np.isnan(m.beta).all()


def test_fisher_scoring_controls_act_on_metareg():
    m = metareg(Y, V, X1, method="REML", control={"maxiter": 1})
    assert not m.converged and "did not converge" in m.message
    ok = metareg(Y, V, X1, method="REML", control={"stepadj": 0.5, "maxiter": 1000})
    ref = metareg(Y, V, X1, method="REML")
    assert ok.converged and ok.n_iter > ref.n_iter
    np.testing.assert_allclose(ok.tau2, ref.tau2, atol=1e-5)


def test_common_tau2_subgroups_use_the_moderator_model():
    g = np.repeat(["a", "b", "c"], 4)
    sub = pool_subgroups(Y, V, g, method="REML", tau2="common")
    dummies = np.column_stack([(g == "b"), (g == "c")]).astype(float)
    m = metareg(Y, V, dummies, method="REML")
    assert sub.q_between == pytest.approx(m.qm, rel=1e-12)
    assert sub.tau2 == pytest.approx(m.tau2, rel=1e-12)
    assert sub.qe == pytest.approx(m.qe, rel=1e-12)
