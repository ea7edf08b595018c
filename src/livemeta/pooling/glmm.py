"""Proportions pooled by a generalised linear mixed model (the binomial-normal model), as metafor's
``rma.glmm(measure="PLO", xi, ni)``.

Each study's events are binomial, ``x_i ~ Bin(n_i, p_i)``, with ``logit(p_i) = mu + u_i`` and
``u_i ~ N(0, tau2)`` (Stijnen, Hamza & Özdemir 2010; Schwarzer et al. 2019). The likelihood is the
binomial one itself: a study with no event (or only events) enters as it is, with no continuity
correction, where the inverse-variance model on logits needs 1/2 added to its cells.

The estimates are maximum likelihood, with each study's integral over ``u_i`` by adaptive
Gauss-Hermite quadrature on ``n_agq`` nodes (7: metafor's ``nAGQ``) centred at the conditional mode
and scaled by the conditional curvature, as lme4's ``glmer(cbind(xi, ni - xi) ~ 1 + (1 | study),
family = binomial, nAGQ = 7)`` computes it. The standard error of ``mu`` is lme4's: from the
Hessian of the deviance in (tau, mu) by central differences of step 1e-4 (``deriv12``), inverted
whole (the uncertainty of tau included); at tau = 0 (the boundary) from the binomial information of
the fixed-effect model, as lme4 falls back to there. The test and CI are Wald (z), the prediction
interval ``mu +- z sqrt(se^2 + tau2)`` (metafor's ``predict()``), I² and H² metafor's (tau2 against
the typical within-study variance of the escalc logits, 1/2 added to zero cells), and ``q`` the
likelihood-ratio test of heterogeneity (metafor's ``QE.LRT``: the fixed-effect binomial model
against the saturated one, k - 1 df).

Matches metafor 3.8.1 / lme4 1.1-31 to 1e-6 where lme4's optimiser is run to convergence
(``tests/pooling/reference/make_reference_glmm.R``); metafor's default optimiser settings stop
within about 1e-5 of the optimum, and so agree with this to that.

Pure numpy/scipy: arrays in, a :class:`~livemeta.pooling.results.PoolResult` out.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special

from ._dist import z_crit
from .effects import _props
from .results import PoolResult

__all__ = ["pool_glmm", "METHOD"]

#: the method label of a GLMM result (``PoolResult.method``)
METHOD = "GLMM"
_STEP = 1e-4  # lme4's deriv12 step for the Hessian behind the standard errors
_NODES: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _rule(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Hermite nodes and weights for the standard normal density (lme4's ``GHrule(n)``)."""
    if n not in _NODES:
        z, w = np.polynomial.hermite_e.hermegauss(n)
        _NODES[n] = (z, w / math.sqrt(2 * math.pi))
    return _NODES[n]


def _modes(mu: float, tau: float, x: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each study's conditional mode of the standardised random effect and the conditional sd there
    (Newton's method on a concave function: the binomial log-likelihood plus the N(0, 1) prior)."""
    u = np.zeros_like(x)
    h = np.ones_like(x)
    for _ in range(200):
        p = special.expit(mu + tau * u)
        h = 1.0 + tau * tau * n * p * (1.0 - p)
        step = (tau * (x - n * p) - u) / h
        u = u + step
        if np.max(np.abs(step)) < 1e-14 * (1.0 + np.max(np.abs(u))):
            break
    p = special.expit(mu + tau * u)
    h = 1.0 + tau * tau * n * p * (1.0 - p)
    return u, 1.0 / np.sqrt(h)


def _loglik(mu: float, tau: float, x: np.ndarray, n: np.ndarray, n_agq: int) -> float:
    """The marginal log-likelihood by adaptive Gauss-Hermite quadrature (binomial constants left out)."""
    z, w = _rule(n_agq)
    u, s = _modes(mu, tau, x, n)
    U = u[:, None] + s[:, None] * z[None, :]
    eta = mu + tau * U
    a = x[:, None] * eta - n[:, None] * np.logaddexp(0.0, eta) - 0.5 * U * U + 0.5 * z * z
    m = a.max(axis=1)
    return float(np.sum(np.log(s) + m + np.log(np.exp(a - m[:, None]) @ w)))


def _hessian(f, x: np.ndarray, delta: float = _STEP) -> np.ndarray:
    """lme4's ``deriv12`` Hessian of ``f`` at ``x`` (central differences of step ``delta``)."""
    nx = len(x)
    H = np.empty((nx, nx))
    fx = f(x)
    for j in range(nx):
        e_j = np.zeros(nx)
        e_j[j] = delta
        H[j, j] = (f(x + e_j) - 2 * fx + f(x - e_j)) / delta**2
        for i in range(j):
            e_i = np.zeros(nx)
            e_i[i] = delta
            H[i, j] = H[j, i] = (f(x + e_i + e_j) - f(x + e_i - e_j) - f(x - e_i + e_j) + f(x - e_i - e_j)) / (2 * delta) ** 2
    return H


def _fit(x: np.ndarray, n: np.ndarray, n_agq: int) -> tuple[float, float, int]:
    """(mu, tau >= 0, function evaluations) maximising the quadrature likelihood. The likelihood is
    even in tau, so tau is searched over the real line (no bound to handle) from two starts and the
    best optimum is polished by Newton steps."""
    def nll(par):
        return -_loglik(par[0], par[1], x, n, n_agq)

    mu0 = float(special.logit(x.sum() / n.sum()))
    best, evals = None, 0
    for tau0 in (0.3, 1.5):
        r = optimize.minimize(nll, np.array([mu0, tau0]), method="Nelder-Mead",
                              options={"xatol": 1e-6, "fatol": 1e-10, "maxiter": 5000, "maxfev": 10000})
        evals += r.nfev
        if best is None or r.fun < best.fun:
            best = r
    par = best.x.copy()
    for _ in range(5):  # Newton polish on the central-difference gradient and Hessian
        g = np.array([(nll(par + d) - nll(par - d)) / (2e-6) for d in np.eye(2) * 1e-6])
        H = _hessian(nll, par)
        evals += 13
        if not np.all(np.linalg.eigvalsh(H) > 0):
            break
        step = np.linalg.solve(H, g)
        if nll(par - step) > nll(par):
            break
        par = par - step
        if np.max(np.abs(step)) < 1e-12:
            break
    return float(par[0]), abs(float(par[1])), evals


def pool_glmm(xi, ni, *, level: float = 0.95, n_agq: int = 7) -> PoolResult:
    """Pool proportions ``xi / ni`` by the binomial-normal GLMM (metafor ``rma.glmm(measure="PLO")``).

    Returns a :class:`~livemeta.pooling.results.PoolResult` on the logit scale with ``method
    "GLMM"``, ``test "z"``, ``q`` the likelihood-ratio test of heterogeneity, ``i2_q`` nan (no
    inverse-variance Q) and no study weights (a GLMM has none: ``weights`` are nan). Where metafor
    stops with an error (k = 1: more parameters than studies; no event or only events in every
    study: no finite estimate) the result has ``converged=False``, a ``message`` and nan.
    Raises :class:`ValueError` for invalid counts (negative, x > n, n = 0), naming the index.
    """
    x, n = _props(xi, ni)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    if int(n_agq) < 1:
        raise ValueError(f"n_agq must be >= 1, got {n_agq!r}")
    k = len(x)
    nan = math.nan
    failed = None
    if k < 2:
        failed = "k = 1: a GLMM needs at least 2 studies (metafor: more parameters than observations)"
    elif x.sum() == 0 or x.sum() == n.sum():
        failed = "no study has an event (or every patient had one): no finite pooled logit (metafor cannot fit the model)"
    if failed:
        return PoolResult(METHOD, "z", float(level), k, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan,
                          nan, nan, max(k - 1, 0), nan, nan, nan, "normal", "logit", False, 0, failed, (nan,) * k)
    mu, tau, evals = _fit(x, n, int(n_agq))
    if tau < 1e-6:  # the boundary: tau = 0, where lme4's estimate lies (bobyqa's lower bound)
        tau = 0.0
        mu = float(special.logit(x.sum() / n.sum()))
        p = x.sum() / n.sum()
        se = 1.0 / math.sqrt(float(np.sum(n)) * p * (1.0 - p))
    else:
        H = _hessian(lambda par: -_loglik(par[1], par[0], x, n, int(n_agq)), np.array([tau, mu]))
        se = math.sqrt(float(np.linalg.inv(H)[1, 1]))
    tau2 = tau * tau
    crit = z_crit(level)
    stat = mu / se
    # metafor's I2 / H2: tau2 against the typical variance of the escalc logits (1/2 added to zero cells)
    cc = np.where((x == 0) | (x == n), 0.5, 0.0)
    vi = 1.0 / (x + cc) + 1.0 / (n - x + cc)
    w = 1.0 / vi
    vt = (k - 1.0) / (w.sum() - (w * w).sum() / w.sum())
    # likelihood-ratio test of heterogeneity: the fixed-effect binomial model against the saturated one
    pbar = x.sum() / n.sum()
    ll_fe = float(np.sum(special.xlogy(x, pbar) + special.xlog1py(n - x, -pbar)))
    ph = x / n
    ll_sat = float(np.sum(special.xlogy(x, ph) + special.xlog1py(n - x, -ph)))
    lrt = max(0.0, -2.0 * (ll_fe - ll_sat))
    spred = math.sqrt(se * se + tau2)
    return PoolResult(
        method=METHOD, test="z", level=float(level), k=k, estimate=mu, se=se, stat=stat, df=nan,
        p=float(2.0 * special.ndtr(-abs(stat))), ci_low=mu - crit * se, ci_high=mu + crit * se, tau2=tau2,
        tau2_se=nan, tau=tau, i2=100.0 * tau2 / (vt + tau2), h2=tau2 / vt + 1.0, i2_q=nan, q=lrt, q_df=k - 1,
        q_p=float(special.chdtrc(k - 1, lrt)), pi_low=mu - crit * spred, pi_high=mu + crit * spred, pi_dist="normal",
        scale="logit", converged=True, n_iter=evals,
        message="q: likelihood-ratio test of heterogeneity (metafor QE.LRT)", weights=(nan,) * k,
    )
