"""Weighted mixed-effects meta-regression (private helper).

A small re-implementation of metafor's ``rma.uni(yi, vi, mods = X,
intercept = FALSE, method = ...)`` for a user-supplied design matrix ``X``.
It is used by :mod:`livemeta.pooling.subgroups` (moderator model with a common
tau^2), :mod:`livemeta.pooling.bias` (``regtest()``, the side test of
``trimfill()``) and :mod:`livemeta.pooling.sensitivity`.

The tau^2 estimators follow metafor 3.8 line by line, including its
starting values and stopping rules, so that iterative estimators (ML, REML,
EB) land on the same iterate as metafor:

* ``FE``   tau^2 = 0.
* ``HE``   Hedges: (RSS_ols - tr(P_ols V)) / (k - p), truncated at 0.
* ``HS``   Hunter-Schmidt: (RSS_w - k) / sum(w), truncated at 0.
* ``DL``   DerSimonian-Laird: (Q - (k - p)) / tr(P), truncated at 0.
* ``SJ``   Sidik-Jonkman with metafor's start var(y)(k-1)/k.
* ``PM``   Paule-Mandel: root of Q(tau^2) = k - p (scipy ``brentq``;
  metafor uses ``uniroot`` with tol = eps^0.25, so PM agrees with metafor
  only to about 1e-4).
* ``ML``, ``REML``, ``EB``  Fisher scoring from the HE value, step halving
  at the bound 0, stop when |change| < 1e-5 (max 100 iterations), and for
  ML/REML metafor's check that tau^2 > 0 is not worse than tau^2 = 0.

Everything here is pure numpy/scipy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from . import _dist as _d

__all__ = ["MetaRegFit", "fit_metareg"]

_METHODS = ("FE", "EE", "CE", "HE", "HS", "DL", "SJ", "PM", "ML", "REML", "EB")
_THRESHOLD = 1e-5  # metafor control: threshold
_MAXITER = 100  # metafor control: maxiter
_TOL = np.finfo(float).eps ** 0.25  # metafor control: tol
_TAU2_MAX = 100.0  # metafor control: tau2.max


@dataclass(frozen=True)
class MetaRegFit:
    """Result of :func:`fit_metareg` (fields named as in metafor's rma object)."""

    beta: np.ndarray
    vb: np.ndarray
    se: np.ndarray
    zval: np.ndarray
    pval: np.ndarray
    ci_lb: np.ndarray
    ci_ub: np.ndarray
    tau2: float
    qe: float
    qe_df: int
    qe_p: float
    qm: float
    qm_df: tuple
    qm_p: float
    i2: float
    h2: float
    k: int
    p: int
    method: str
    test: str
    level: float
    converged: bool
    message: str
    weights: np.ndarray


def _inv(a: np.ndarray) -> np.ndarray:
    return np.linalg.inv(a)


def _pmat(X: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (P, (X'WX)^-1) with P = W - W X (X'WX)^-1 X' W."""
    WX = X * w[:, None]
    stXWX = _inv(X.T @ WX)
    P = np.diag(w) - WX @ stXWX @ WX.T
    return P, stXWX


def _qe_of(tau2: float, y: np.ndarray, vi: np.ndarray, X: np.ndarray) -> float:
    P, _ = _pmat(X, 1.0 / (vi + tau2))
    return float(y @ P @ y)


def _estimate_tau2(y, vi, X, method):
    """Return (tau2, converged, message) following rma.uni (metafor 3.8)."""
    k, p = X.shape
    ymc = y - y.mean()
    if method in ("FE", "EE", "CE"):
        return 0.0, True, ""
    if method == "HS":
        w = 1.0 / vi
        P, _ = _pmat(X, w)
        return max(0.0, (float(ymc @ P @ ymc) - k) / w.sum()), True, ""
    if method == "DL":
        w = 1.0 / vi
        P, _ = _pmat(X, w)
        rss = float(ymc @ P @ ymc)
        return max(0.0, (rss - (k - p)) / np.trace(P)), True, ""
    if method == "SJ":
        tau2_0 = float(np.var(ymc))  # var(ymci) * (k - 1) / k
        P, _ = _pmat(X, 1.0 / (vi + tau2_0))
        return max(0.0, tau2_0 * float(ymc @ P @ ymc) / (k - p)), True, ""
    if method == "PM":
        target = k - p
        if _qe_of(0.0, ymc, vi, X) < target:
            return 0.0, True, ""
        if _qe_of(_TAU2_MAX, ymc, vi, X) > target:
            return float("nan"), False, "PM: root above tau2.max = 100"
        from scipy.optimize import brentq

        root = brentq(lambda t: _qe_of(t, ymc, vi, X) - target, 0.0, _TAU2_MAX,
                      xtol=1e-14, rtol=1e-14, maxiter=500)
        return max(0.0, float(root)), True, ""
    # HE (also the starting value for ML / REML / EB)
    stXX = _inv(X.T @ X)
    P0 = np.eye(k) - X @ stXX @ X.T
    rss = float(ymc @ P0 @ ymc)
    tau2 = (rss - float(np.sum(np.diag(P0) * vi))) / (k - p)
    if method == "HE":
        return max(0.0, tau2), True, ""
    if method not in ("ML", "REML", "EB"):
        raise ValueError(f"unknown method {method!r}")
    tau2 = max(0.0, tau2)
    change = _THRESHOLD + 1.0
    it = 0
    converged = True
    while change > _THRESHOLD:
        it += 1
        old = tau2
        w = 1.0 / (vi + tau2)
        P, _ = _pmat(X, w)
        Py = P @ ymc
        if method == "ML":
            adj = (float(Py @ Py) - w.sum()) / float(np.sum(w**2))
        elif method == "REML":
            adj = (float(Py @ Py) - np.trace(P)) / float(np.sum(P * P.T))
        else:  # EB
            adj = (float(ymc @ Py) * k / (k - p) - k) / w.sum()
        if not np.isfinite(adj):
            adj = 0.0
        while tau2 + adj < 0.0:
            adj /= 2.0
        tau2 = tau2 + adj
        change = abs(old - tau2)
        if it > _MAXITER:
            converged = False
            break
    if not converged:
        return float("nan"), False, "Fisher scoring algorithm did not converge"
    msg = ""
    if method in ("ML", "REML") and np.all(vi > 0):
        def ll(t):
            w = 1.0 / (vi + t)
            WX = X * w[:, None]
            xtwx = X.T @ WX
            b = np.linalg.solve(xtwx, WX.T @ ymc)
            r = float(np.sum(w * (ymc - X @ b) ** 2))
            if method == "ML":
                return -0.5 * k * np.log(2 * np.pi) - 0.5 * np.sum(np.log(vi + t)) - 0.5 * r
            return (-0.5 * (k - p) * np.log(2 * np.pi) - 0.5 * np.sum(np.log(vi + t))
                    - 0.5 * np.linalg.slogdet(xtwx)[1] - 0.5 * r)

        if ll(0.0) - ll(tau2) > _TOL and tau2 > _THRESHOLD:
            msg = "Fisher scoring may have got stuck at a local maximum; tau2 set to 0"
            tau2 = 0.0
    return max(0.0, tau2), True, msg


def fit_metareg(yi, vi, X, *, method="REML", test="z", level=0.95, btt=None) -> MetaRegFit:
    """Fit ``rma.uni(yi, vi, mods = X, intercept = FALSE, method, test)``.

    Parameters
    ----------
    yi, vi : array_like, shape (k,)
        Effect sizes and sampling variances (vi > 0).
    X : array_like, shape (k, p)
        Full design matrix (include a column of ones for an intercept).
    method : str
        tau^2 estimator (see module docstring).
    test : {"z", "knha"}
        Normal tests, or Knapp-Hartung t / F tests with k - p df.
    level : float
        Confidence level in (0, 1).
    btt : sequence of int, optional
        Columns tested by the omnibus QM test.  Default: all columns except
        a leading intercept column of ones (metafor's default).
    """
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    k, p = X.shape
    method = method.upper()
    if method not in _METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {_METHODS}")
    if test not in ("z", "knha"):
        raise ValueError("test must be 'z' or 'knha'")
    if k < p:
        raise ValueError(f"k = {k} studies is fewer than p = {p} coefficients")
    if np.linalg.matrix_rank(X) < p:
        raise ValueError("design matrix is not of full column rank")
    if btt is None:
        btt = list(range(1, p)) if (p > 1 and np.allclose(X[:, 0], 1.0)) else list(range(p))
    btt = list(btt)

    if k == 1:
        tau2, converged, msg = 0.0, True, ""
    else:
        tau2, converged, msg = _estimate_tau2(y, v, X, method)
    if method in ("FE", "EE", "CE"):
        tau2 = 0.0
    nan = float("nan")
    w = 1.0 / (v + tau2) if np.isfinite(tau2) else np.full(k, nan)
    WX = X * w[:, None]
    vb = _inv(X.T @ WX) if np.all(np.isfinite(w)) else np.full((p, p), nan)
    beta = vb @ (WX.T @ y)
    if test == "knha":
        rss = float(np.sum(w * (y - X @ beta) ** 2))
        s2w = 0.0 if rss <= np.finfo(float).eps else rss / (k - p) if k > p else nan
        vb = s2w * vb
    se = np.sqrt(np.diag(vb))
    with np.errstate(divide="ignore", invalid="ignore"):
        zval = beta / se
    m = len(btt)
    try:
        sub = vb[np.ix_(btt, btt)]
        qm = float(beta[btt] @ np.linalg.solve(sub, beta[btt])) if m else nan
    except np.linalg.LinAlgError:
        qm = nan
    alpha = 1.0 - level
    if test == "knha":
        ddf = k - p
        qm = qm / m if m else nan
        qm_df = (m, ddf)
        qm_p = float(_d.f_sf(qm, m, ddf)) if ddf > 0 else nan
        pval = 2 * _d.t_sf(np.abs(zval), ddf) if ddf > 0 else np.full(p, nan)
        crit = _d.t_isf(alpha / 2, ddf) if ddf > 0 else nan
    else:
        qm_df = (m, None)
        qm_p = float(_d.chi2_sf(qm, m)) if m else nan
        pval = 2 * _d.norm_sf(np.abs(zval))
        crit = _d.norm_isf(alpha / 2)
    ci_lb = beta - crit * se
    ci_ub = beta + crit * se

    if k > p:
        wfe = 1.0 / v
        Pfe, _ = _pmat(X, wfe)
        ymc = y - y.mean()
        qe = max(0.0, float(ymc @ Pfe @ ymc))
        qe_p = float(_d.chi2_sf(qe, k - p))
        vt = (k - p) / np.trace(Pfe)
        if method in ("FE", "EE", "CE"):
            i2 = max(0.0, 100.0 * (qe - (k - p)) / qe) if qe > 0 else 0.0
            h2 = qe / (k - p)
        else:
            i2 = 100.0 * tau2 / (vt + tau2)
            h2 = tau2 / vt + 1.0
    else:
        qe, qe_p, i2, h2 = 0.0, 1.0, 0.0, 1.0
    return MetaRegFit(
        beta=beta, vb=vb, se=se, zval=zval, pval=np.asarray(pval, float),
        ci_lb=ci_lb, ci_ub=ci_ub, tau2=float(tau2), qe=qe, qe_df=k - p, qe_p=qe_p,
        qm=qm, qm_df=qm_df, qm_p=qm_p, i2=float(i2), h2=float(h2), k=k, p=p,
        method=method, test=test, level=level, converged=converged, message=msg,
        weights=w,
    )
