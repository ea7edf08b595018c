"""Core random-/fixed-effects estimator (R metafor ``rma.uni`` for an intercept-only model).

Everything here is pure numpy/scipy: arrays in, result objects out.

One vectorised engine (:func:`_fit`) serves both :func:`pool` (one analysis)
and :func:`livemeta.pooling.pool_many` (thousands at once): the studies of all
analyses sit in one flat array, sorted by analysis, and every per-analysis sum
is a segment sum (``np.add.reduceat``).  The iterative estimators run their
iterations for all analyses at once with an "active" mask.

tau2 comes from the one tau2 engine of the package
(:func:`livemeta.pooling._tau2.estimate_tau2`, which also serves
meta-regression, subgroups, Egger's test and the influence diagnostics): it
follows metafor 3.8 step by step so that the iterative estimators stop where
metafor stops (metafor's results are only as precise as its convergence
criteria, so matching it to 1e-6 means replaying them).  The Q-profile CI of
:func:`confint_tau2` uses the same R ``uniroot()`` replica on
``[0, max(100, 10 * tau2)]``.

A fit that metafor would stop with an error (Fisher scoring not converged,
PM's ``tau2.max`` too low) does not raise here: the result has
``converged=False``, a ``message``, and ``nan`` in every tau2-dependent
field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from ._tau2 import _EPS, _R_TOL, METHODS, _Control, _InterceptModel, _Segments, _zeroin, estimate_tau2, i2_h2
from ._dist import norm_isf
from ._validate import first_index
from .effects import back_transform, transf_ilogit  # noqa: F401 - back_transform: this module's API too
from .results import PoolResult

__all__ = [
    "METHODS",
    "TESTS",
    "PI_TYPES",
    "pool",
    "confint_tau2",
    "Tau2CI",
    "back_transform",
    "validate_inputs",
]

TESTS: tuple[str, ...] = ("z", "knha")
PI_TYPES: tuple[str, ...] = ("default", "normal", "t(k-1)", "t(k-2)")
_METHOD_ALIASES = {"EE": "FE", "CE": "FE"}

# --------------------------------------------------------------------- checks
_ALL = np.logical_and.reduce  # ndarray.all() without its Python wrapper (pool() is called in loops)


def validate_inputs(yi, vi) -> tuple[np.ndarray, np.ndarray]:
    """Return ``yi``, ``vi`` as 1-D float arrays or raise :class:`ValueError`.

    Lengths must match and be >= 1; every ``yi`` must be finite and every
    ``vi`` finite and > 0.  The message names the first offending index.
    """
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    if y.ndim == 0:
        y = y.reshape(1)
    if v.ndim == 0:
        v = v.reshape(1)
    if y.ndim != 1 or v.ndim != 1:
        raise ValueError(f"yi and vi must be 1-D, got shapes {y.shape} and {v.shape}")
    if y.shape[0] != v.shape[0]:
        raise ValueError(f"yi and vi have different lengths ({y.shape[0]} and {v.shape[0]})")
    if y.shape[0] == 0:
        raise ValueError("no studies: yi and vi are empty")
    for name, a in (("yi", y), ("vi", v)):
        finite = np.isfinite(a)
        if not _ALL(finite):
            i = first_index(~finite)
            raise ValueError(f"{name}[{i}] = {float(a[i])!r} is not finite")
    if not _ALL(v > 0):
        i = first_index(v <= 0)
        raise ValueError(f"vi[{i}] = {float(v[i])!r} must be > 0 (sampling variances must be positive)")
    return y, v


def _check_method(method: str) -> str:
    m = str(method).upper()
    m = _METHOD_ALIASES.get(m, m)
    if m not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")
    return m


def _check_test(test: str) -> str:
    t = str(test).lower()
    if t not in TESTS:
        raise ValueError(f"unknown test {test!r}; expected one of {TESTS}")
    return t


def _check_level(level: float) -> float:
    lev = float(level)
    if not (0.0 < lev < 1.0):
        hint = f" (a fraction: {lev / 100:g} for a {lev:g}% CI)" if 50 < lev < 100 else ""
        raise ValueError(f"level must be in (0, 1), got {level!r}{hint}")
    return lev


def _check_pi(pi: str) -> str:
    p = str(pi)
    if p not in PI_TYPES:
        raise ValueError(f"unknown pi {pi!r}; expected one of {PI_TYPES}")
    return p


# ----------------------------------------------------------------- the engine
def _fit(seg: _Segments, y, v, *, method: str, test: str, level: float, pi: str, ctl: _Control):
    """Fit every analysis of ``seg``; returns a dict of per-analysis arrays."""
    est_t2 = estimate_tau2(_InterceptModel(seg, v), y, method, ctl)
    with np.errstate(all="ignore"):
        w = 1.0 / (v + seg.rep(est_t2.tau2))
        W = seg.sum(w)
        est = seg.sum(w * y) / W
        rss = None
        if test == "knha":
            res = y - seg.rep(est)
            rss = seg.sum(w * res * res)
        out = _summarise(seg.k, est_t2, W, est, rss, method=method, test=test, level=level, pi=pi)
        out["weights"] = 100.0 * w / seg.rep(W)
    return out


def _summarise(k: np.ndarray, est_t2, W: np.ndarray, est: np.ndarray, rss: np.ndarray | None, *,
               method: str, test: str, level: float, pi: str) -> dict:
    """Everything metafor reports of G fitted analyses, from per-analysis sums: ``k``, the tau2
    estimate, ``W`` = sum of the weights ``1 / (vi + tau2)``, the estimate ``sum(w y) / W`` and
    (``test="knha"``) ``rss`` = sum of ``w (y - estimate)^2``. Returns a dict of arrays (no
    weights)."""
    multi = k > 1
    km1 = k.astype(float) - 1.0
    conv = est_t2.converged
    with np.errstate(all="ignore"):
        out = _q_test(k, est_t2.qe)
        out |= _estimate_test(k, W, est, rss, test=test, level=level)
        i2, h2 = i2_h2(method, est_t2, km1)  # metafor's i2def = "1"
        out["i2"], out["h2"] = np.where(conv, i2, np.nan), np.where(conv, h2, np.nan)
        out |= _prediction_interval(k, est_t2.tau2, out, method=method, pi=pi, level=level)
    _test_notes(est_t2.notes, multi, method=method, test=test)
    return out | {
        "test": np.where(multi, test, "z") if test != "z" else np.full(k.shape[0], "z"),
        "k": k,
        "tau2": est_t2.tau2,
        "tau2_se": est_t2.tau2_se,
        "tau": np.sqrt(est_t2.tau2),
        "converged": conv,
        "n_iter": est_t2.n_iter,
        "message": ["; ".join(n) for n in est_t2.notes],
        "code": est_t2.code,
    }


def _q_test(k: np.ndarray, q_e: np.ndarray) -> dict:
    """Cochran's Q test of heterogeneity (inverse-variance weights) and the I2 of Q."""
    multi = k > 1
    q_df = k - 1
    return {
        "q": q_e,
        "q_df": q_df,
        "q_p": np.where(multi, special.chdtrc(np.maximum(q_df, 1), q_e), 1.0),
        "i2_q": np.where(multi & (q_e > 0), np.maximum(0.0, 100.0 * (q_e - q_df) / q_e), 0.0),
    }


def _estimate_test(k: np.ndarray, W: np.ndarray, est: np.ndarray, rss: np.ndarray | None, *,
                   test: str, level: float) -> dict:
    """The pooled estimate's standard error, test and confidence interval: a z test, or (``knha``,
    k > 1) Knapp-Hartung's t test on k - 1 df with its variance scaled by ``rss / (k - 1)``.
    Also ``vb`` (the estimate's variance), ``crit`` and ``pi_default`` for the prediction interval."""
    multi = k > 1
    km1 = k.astype(float) - 1.0
    alpha = 1.0 - level
    vb = 1.0 / W
    crit_z = norm_isf(alpha / 2.0)
    if test == "knha":
        s2w = np.where(rss <= _EPS, 0.0, rss / km1)
        vb = np.where(multi, s2w * vb, vb)
        se = np.sqrt(vb)
        stat = est / se
        df_safe = np.where(multi, km1, 1.0)
        df = np.where(multi, km1, np.nan)
        pval = np.where(multi, 2.0 * special.stdtr(df_safe, -np.abs(stat)), 2.0 * special.ndtr(-np.abs(stat)))
        crit = np.where(multi, -special.stdtrit(df_safe, alpha / 2.0), crit_z)
        pi_default = np.where(multi, "t(k-1)", "normal")
    else:
        se = np.sqrt(vb)
        stat = est / se
        df = np.full(k.shape[0], np.nan)
        pval = 2.0 * special.ndtr(-np.abs(stat))
        crit = crit_z
        pi_default = np.full(k.shape[0], "normal")
    return {"estimate": est, "se": se, "stat": stat, "df": df, "p": pval, "ci_low": est - crit * se,
            "ci_high": est + crit * se, "vb": vb, "crit": crit, "crit_z": crit_z, "pi_default": pi_default}


def _prediction_interval(k: np.ndarray, tau2: np.ndarray, fit: dict, *, method: str, pi: str, level: float) -> dict:
    """metafor's ``predict()`` interval: the CI for FE; else ``estimate +- crit sqrt(vb + tau2)``
    with ``crit`` from the test's distribution (``pi="default"``), the normal, t(k-1) or t(k-2)
    (Higgins, Thompson & Spiegelhalter 2009). Takes ``vb``, ``crit``, ``crit_z`` and ``pi_default``
    out of ``fit``."""
    vb, crit, crit_z, pi_default = (fit.pop(name) for name in ("vb", "crit", "crit_z", "pi_default"))
    if method == "FE":
        return {"pi_low": fit["ci_low"], "pi_high": fit["ci_high"], "pi_dist": pi_default}
    alpha = 1.0 - level
    G = k.shape[0]
    if pi == "default":
        pcrit, pi_dist = crit, pi_default
    elif pi == "normal":
        pcrit, pi_dist = np.full(G, crit_z), np.full(G, "normal")
    elif pi == "t(k-1)":
        pcrit = np.where(k > 1, -special.stdtrit(np.maximum(k - 1.0, 1.0), alpha / 2.0), np.nan)
        pi_dist = np.full(G, "t(k-1)")
    else:  # t(k-2)
        pcrit = np.where(k >= 3, -special.stdtrit(np.maximum(k - 2.0, 1.0), alpha / 2.0), np.nan)
        pi_dist = np.full(G, "t(k-2)")
    spred = np.sqrt(vb + tau2)
    est = fit["estimate"]
    return {"pi_low": est - pcrit * spred, "pi_high": est + pcrit * spred, "pi_dist": pi_dist}


def _test_notes(notes: list[list[str]], multi: np.ndarray, *, method: str, test: str) -> None:
    """What metafor warns of a Knapp-Hartung test, added to each analysis's notes."""
    if test != "knha":
        return
    for g in np.flatnonzero(multi) if method == "FE" else ():
        notes[g].append("Knapp-Hartung is not meant for FE models (metafor warns the same)")
    for g in np.flatnonzero(~multi):
        notes[g].append("k = 1: test='knha' is not possible, used test='z' (as metafor does)")


# ------------------------------------------------------------------ public API
def pool(
    yi,
    vi,
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    pi: str = "default",
    scale: str = "identity",
    control: Mapping[str, Any] | None = None,
) -> PoolResult:
    """Pool one meta-analysis (intercept-only random- or fixed-effects model).

    Matches R metafor 3.8 ``res <- rma(yi, vi, method=method, test=test,
    level=100*level)`` for the estimate, se, statistic, p value, CI, tau2,
    ``se.tau2``, I2, H2, QE and QEp, ``weights(res)`` for ``weights`` and
    ``predict(res)`` for ``pi_low``/``pi_high`` (closed-form estimators to
    1e-8, iterative ones to 1e-6; see ``tests/pooling/test_core_reference.py``).

    Parameters
    ----------
    yi, vi : array_like
        Effect sizes and their sampling variances (1-D, same length >= 1;
        ``yi`` finite, ``vi`` finite and > 0; otherwise :class:`ValueError`
        naming the first offending index).
    method : {"FE", "DL", "REML", "ML", "PM", "EB", "SJ", "HE", "HS"}
        tau2 estimator, as ``rma(method=)``, whose default (``"REML"``) it
        shares.  ``"EE"``/``"CE"`` are accepted as aliases of ``"FE"``.
    test : {"z", "knha"}
        ``"knha"`` is the Knapp-Hartung(-Sidik-Jonkman) method, as
        ``rma(test="knha")``: t(k-1) with the adjusted variance, not
        truncated.  With ``k == 1`` metafor (and this function) use ``"z"``.
    level : float
        Confidence level in (0, 1).
    pi : {"default", "normal", "t(k-1)", "t(k-2)"}
        Prediction interval ``estimate +- crit * sqrt(se^2 + tau2)``.
        ``"default"`` is metafor's ``predict(res)``: normal under ``z``,
        t(k-1) under ``knha``.  ``"t(k-1)"`` matches
        ``predict(res, pi.type="t")``; ``"t(k-2)"`` is Higgins, Thompson &
        Spiegelhalter (2009) and matches ``predict(res, pi.type="riley")``
        (``nan`` for k < 3, where metafor instead floors the df at 1).  For
        ``method="FE"`` the PI is the CI (metafor reports no PI there).
    scale : str
        Label of the scale of ``yi`` (e.g. ``"log"`` for log ratios), kept in
        the result for :meth:`PoolResult.back_transformed`.
    control : mapping, optional
        metafor's ``control=list(...)``: ``threshold`` (1e-5), ``maxiter``
        (100), ``tol`` (``.Machine$double.eps^0.25``), ``stepadj`` (1),
        ``tau2_max`` (PM: ``max(100, 10 * mad(yi)^2)``), ``ll0check`` (True).
        Dotted R names (``"tau2.max"``) are accepted.

    Returns
    -------
    PoolResult
        ``converged=False`` (with ``message``; tau2-dependent fields ``nan``)
        where metafor stops with an error: Fisher scoring (REML/ML/EB) not
        converged within ``maxiter``, or PM's ``tau2.max`` too low.

    Notes
    -----
    ``k == 1``: as metafor, the result is the study itself (tau2 = 0,
    q = 0, q_df = 0, q_p = 1, i2 = 0, h2 = 1, tau2_se = nan) with a z test.
    Identical ``yi`` under ``knha``: metafor sets the adjustment factor to 0
    (its residual sum of squares is <= machine epsilon), so se = 0,
    stat = +-inf, p = 0 and a zero-width CI; reproduced here.
    """
    y, v = validate_inputs(yi, vi)
    method = _check_method(method)
    test = _check_test(test)
    level = _check_level(level)
    pi = _check_pi(pi)
    ctl = _Control.make(control)
    return _pool_checked(y, v, method=method, test=test, level=level, pi=pi, scale=scale, ctl=ctl)


def _pool_checked(y, v, *, method: str, test: str, level: float, pi: str, scale: str, ctl: _Control,
                  weights: bool = True) -> PoolResult:
    """:func:`pool` of checked arguments; ``weights=False`` leaves the weights out (an empty
    tuple), for callers that fit many subsets and show few weights."""
    if method in _ONE:
        return _pool_one(y, v, method=method, test=test, level=level, pi=pi, scale=scale, weights=weights)
    seg = _Segments(np.array([y.shape[0]]))
    out = _fit(seg, y, v, method=method, test=test, level=level, pi=pi, ctl=ctl)
    return _result_at(out, 0, method=method, level=level, scale=scale, weights=out["weights"] if weights else ())


# ------------------------------------------------- one closed-form analysis, fast
# pool() of one analysis by a closed-form estimator (FE, DL) is called once per analysis, per
# revision, per cumulative step: the engine's array machinery for G analyses costs ~100 numpy calls
# there. _pool_one computes the same quantities, operation for operation, on one analysis: the
# per-study sums by the engine's own reduction (np.add.reduceat), everything per analysis in
# scalars. tests/pooling/test_core_properties.py holds it to the engine bit for bit.
_ONE = ("FE", "DL")
_AT0 = np.zeros(1, dtype=np.intp)


def _sum(x: np.ndarray, _reduceat=np.add.reduceat, _at=_AT0):
    """The engine's segment sum of one segment (the same reduction, the same rounding)."""
    return _reduceat(x, _at)[0]


def _loo_one(x: np.ndarray) -> np.ndarray:
    """``_tau2._loo_sum`` of one segment."""
    total = _sum(x)
    first = int(x.argmax())  # the largest, or the first nan (whose place is then 0, as the engine's)
    if x[first] != x[first]:
        first = 0
    rest = x.copy()
    rest[first] = 0.0
    out = total - x
    out[first] = _sum(rest)
    return out


_ZERO = np.float64(0.0)  # scalars stay numpy floats: x / 0 is inf or nan, as in the engine's arrays


def _max0(x):
    """``np.maximum(0.0, x)`` of a scalar (nan stays nan, -0.0 becomes 0.0)."""
    return x if (x > 0.0 or x != x) else _ZERO


_CRIT_Z: dict[float, float] = {}


def _pool_one(y: np.ndarray, v: np.ndarray, *, method: str, test: str, level: float, pi: str,
              scale: str, weights: bool = True) -> PoolResult:
    """:func:`pool` of one analysis by FE or DL: what ``_fit`` computes, in scalars."""
    k = y.shape[0]
    multi = k > 1
    alpha = 1.0 - level
    crit_z = _CRIT_Z.get(alpha)
    if crit_z is None:
        crit_z = _CRIT_Z[alpha] = float(norm_isf(alpha / 2.0))
    notes = []
    with np.errstate(all="ignore"):
        qe, tau2, tau2_se, tr_p0 = _tau2_one(y, v, method, notes)
        conv = tau2 == tau2
        # the pooled estimate (_fit) and what metafor reports of it (_summarise)
        w = 1.0 / (v + tau2)
        W = _sum(w)
        est = _sum(w * y) / W
        q_df = k - 1
        q_p = float(special.chdtrc(max(q_df, 1), qe)) if multi else 1.0
        i2_q = _max0(100.0 * (qe - q_df) / qe) if (multi and qe > 0) else 0.0
        knha = test == "knha" and multi
        vb, se, stat, df, pval, crit = _estimate_test_one(y, w, W, est, knha, alpha, crit_z)
        i2, h2 = _i2_h2_one(method, k, qe, tau2, tr_p0) if conv else (math.nan, math.nan)
        if method == "FE":
            pi_low, pi_high, pi_dist = est - crit * se, est + crit * se, "t(k-1)" if knha else "normal"
        else:
            pcrit, pi_dist = _pi_crit_one(pi, k, knha, crit, crit_z, alpha)
            spred = np.sqrt(vb + tau2)
            pi_low, pi_high = est - pcrit * spred, est + pcrit * spred
        weights = (100.0 * w / W).tolist() if weights else ()
    if test == "knha":
        if method == "FE" and multi:
            notes.append("Knapp-Hartung is not meant for FE models (metafor warns the same)")
        if not multi:
            notes.append("k = 1: test='knha' is not possible, used test='z' (as metafor does)")
    return PoolResult(
        method=method, test=test if multi else "z", level=float(level), k=k, estimate=float(est), se=float(se),
        stat=float(stat), df=float(df), p=pval, ci_low=float(est - crit * se), ci_high=float(est + crit * se),
        tau2=float(tau2), tau2_se=float(tau2_se), tau=math.sqrt(tau2), i2=float(i2), h2=float(h2),
        i2_q=float(i2_q), q=float(qe), q_df=q_df, q_p=q_p, pi_low=float(pi_low), pi_high=float(pi_high),
        pi_dist=pi_dist, scale=str(scale), converged=bool(conv), n_iter=0, message="; ".join(notes),
        weights=tuple(weights),
    )


def _tau2_one(y: np.ndarray, v: np.ndarray, method: str, notes: list[str]):
    """The tau2 engine (``estimate_tau2``) for one analysis by FE or DL: (Q, tau2, its standard
    error, the trace of P at tau2 = 0). A tau2 that is not finite becomes nan, with a note."""
    k = y.shape[0]
    multi = k > 1
    dfr = k - 1.0
    ymc = y - _sum(y) / float(k)
    w0 = 1.0 / v
    W0 = _sum(w0)
    r0 = ymc - _sum(w0 * ymc) / W0
    rss0 = _sum(w0 * r0 * r0)
    loo0 = _loo_one(w0)
    tr_p0 = _sum(w0 * loo0) / W0
    qe = _max0(rss0) if multi else _ZERO
    tau2 = _max0((rss0 - dfr) / tr_p0) if (multi and method == "DL") else _ZERO
    if not (tau2 == tau2 and abs(tau2) != math.inf):
        notes.append(f"{method}: tau2 estimate is not finite")
        return qe, math.nan, math.nan, tr_p0
    tau2_se = math.nan
    if method == "DL" and multi:
        p_ii = w0 * loo0 / W0
        w2 = w0 * w0
        sum_p2 = _sum(p_ii * p_ii) + _sum(w2 * _loo_one(w2)) / (W0 * W0)
        num = 2.0 * dfr + 4.0 * tau2 * tr_p0 + 2.0 * tau2 * tau2 * sum_p2
        tau2_se = math.sqrt(num / (tr_p0 * tr_p0))
    return qe, tau2, tau2_se, tr_p0


def _estimate_test_one(y, w, W, est, knha: bool, alpha: float, crit_z: float):
    """``_estimate_test`` of one analysis: (vb, se, stat, df, p, crit)."""
    vb = 1.0 / W
    df = math.nan
    if knha:
        dfr = y.shape[0] - 1.0
        res = y - est
        rss = _sum(w * res * res)
        s2w = 0.0 if rss <= _EPS else rss / dfr
        vb = s2w * vb
        df = dfr
    se = np.sqrt(vb)
    stat = est / se
    if knha:
        return vb, se, stat, df, float(2.0 * special.stdtr(df, -abs(stat))), float(-special.stdtrit(df, alpha / 2.0))
    return vb, se, stat, df, float(2.0 * special.ndtr(-abs(stat))), crit_z


def _i2_h2_one(method: str, k: int, qe, tau2, tr_p0):
    """``i2_h2`` of one converged analysis by FE or DL."""
    if k <= 1:
        return 0.0, 1.0
    dfr = k - 1.0
    if method == "FE":
        i2 = _max0(100.0 * (qe - dfr) / qe)
        return (0.0 if i2 != i2 else i2), qe / max(dfr, 1.0)
    vt = dfr / tr_p0
    return 100.0 * tau2 / (vt + tau2), tau2 / vt + 1.0


def _pi_crit_one(pi: str, k: int, knha: bool, crit, crit_z: float, alpha: float):
    """``_prediction_interval``'s critical value and distribution for one analysis."""
    if pi == "normal":
        return crit_z, "normal"
    if pi == "t(k-1)":
        return (float(-special.stdtrit(max(k - 1.0, 1.0), alpha / 2.0)) if k > 1 else math.nan), "t(k-1)"
    if pi == "t(k-2)":
        return (float(-special.stdtrit(max(k - 2.0, 1.0), alpha / 2.0)) if k >= 3 else math.nan), "t(k-2)"
    return crit, "t(k-1)" if knha else "normal"


def _result_at(out: dict, g: int, *, method: str, level: float, scale: str, weights) -> PoolResult:
    def f(name):
        return float(out[name][g])

    return PoolResult(
        method=method,
        test=str(out["test"][g]),
        level=float(level),
        k=int(out["k"][g]),
        estimate=f("estimate"),
        se=f("se"),
        stat=f("stat"),
        df=f("df"),
        p=f("p"),
        ci_low=f("ci_low"),
        ci_high=f("ci_high"),
        tau2=f("tau2"),
        tau2_se=f("tau2_se"),
        tau=f("tau"),
        i2=f("i2"),
        h2=f("h2"),
        i2_q=f("i2_q"),
        q=f("q"),
        q_df=int(out["q_df"][g]),
        q_p=f("q_p"),
        pi_low=f("pi_low"),
        pi_high=f("pi_high"),
        pi_dist=str(out["pi_dist"][g]),
        scale=str(scale),
        converged=bool(out["converged"][g]),
        n_iter=int(out["n_iter"][g]),
        message=str(out["message"][g]),
        weights=tuple(np.asarray(weights, dtype=float).tolist()),
    )


# ---------------------------------------------------------- Q-profile CI of tau2
@dataclass(frozen=True, slots=True)
class Tau2CI:
    """Q-profile confidence interval of tau2 (and of I2, H2, tau) for one analysis.

    Matches ``confint(rma(yi, vi, method=method))`` ($random rows ``tau^2``,
    ``tau``, ``I^2(%)``, ``H^2``).  ``lb_sign`` / ``ub_sign`` are metafor's
    markers: ``">"`` when the bound is only known to exceed the search
    limit ``tau2_max``, ``"<"`` when the whole CI lies below the lower search
    limit.  With metafor's default lower limit 0, a lower bound that falls at
    0 is returned as 0 (``tau2_low_truncated=True``), and when even Q(0) is
    below the lower chi-square quantile the CI is ``{0}`` (``ci_null=True``,
    both bounds 0, ``tau2_high_truncated=True``).
    """

    method: str
    level: float
    k: int
    tau2: float
    tau2_low: float
    tau2_high: float
    tau: float
    tau_low: float
    tau_high: float
    i2: float
    i2_low: float
    i2_high: float
    h2: float
    h2_low: float
    h2_high: float
    lb_sign: str
    ub_sign: str
    ci_null: bool
    tau2_low_truncated: bool
    tau2_high_truncated: bool
    tau2_max: float
    converged: bool
    message: str

    def to_dict(self) -> dict[str, Any]:
        """All fields as a plain ``dict``."""
        from dataclasses import asdict

        return asdict(self)


def confint_tau2(
    yi,
    vi,
    *,
    method: str = "REML",
    level: float = 0.95,
    control: Mapping[str, Any] | None = None,
) -> Tau2CI:
    """Q-profile confidence interval for tau2, I2 and H2 (Viechtbauer 2007).

    Matches R metafor 3.8 ``confint(rma(yi, vi, method=method))`` (type
    ``"QP"``) to 1e-6: the bounds are the roots of
    ``Q(tau2) = qchisq(1 - alpha/2, k-1)`` (lower bound) and
    ``Q(tau2) = qchisq(alpha/2, k-1)`` (upper bound), where
    ``Q(tau2) = sum w_i (y_i - mu_w)^2`` with ``w_i = 1/(v_i + tau2)``, searched
    by R's ``uniroot()`` algorithm on ``[0, max(100, 10 * tau2_hat)]``.
    The I2 and H2 bounds are ``100 tau2 / (s2 + tau2)`` and ``tau2 / s2 + 1``
    with metafor's typical within-study variance ``s2``; the point estimates
    are those of ``pool(yi, vi, method=method)``.

    Parameters
    ----------
    yi, vi : array_like
        As for :func:`pool`; at least 2 studies.
    method : str
        Random-effects estimator giving the point estimate (not ``"FE"``:
        metafor stops with "Model does not contain a random-effects
        component").
    level : float
        Confidence level in (0, 1).
    control : mapping, optional
        ``tol`` (``.Machine$double.eps^0.25``), ``maxiter`` (1000),
        ``tau2_max`` (search limit) for the root finder, as metafor's
        ``confint(..., control=list(...))``.  The fit itself uses defaults.

    Returns
    -------
    Tau2CI
        ``converged=False`` when the model fit did not converge (bounds nan).
    """
    y, v = validate_inputs(yi, vi)
    method = _check_method(method)
    level = _check_level(level)
    if method == "FE":
        raise ValueError("confint_tau2: method='FE' has no random-effects component")
    if y.shape[0] < 2:
        raise ValueError("confint_tau2: needs k >= 2 studies (metafor stops because k = 1)")
    opts = _confint_control(control)
    fit = pool(y, v, method=method, level=level)
    k = y.shape[0]
    nan = float("nan")
    if not fit.converged:
        return Tau2CI(method, level, k, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan,
                      "", "", False, False, False, nan, False, fit.message)
    tau2_min = min(0.0, fit.tau2)
    tau2_max = float(opts["tau2_max"]) if opts["tau2_max"] is not None else max(100.0, fit.tau2 * 10.0, tau2_min * 10.0)
    b = _q_profile(y, v, 1.0 - level, tau2_min, tau2_max, float(opts["tol"]), int(opts["maxiter"]))
    vt = _typical_variance(v)

    def _sqrt(x):
        return math.sqrt(x) if x >= 0 else nan

    return Tau2CI(
        method=method,
        level=level,
        k=k,
        tau2=fit.tau2,
        tau2_low=b.lb,
        tau2_high=b.ub,
        tau=_sqrt(fit.tau2),
        tau_low=_sqrt(b.lb),
        tau_high=_sqrt(b.ub),
        i2=fit.i2,
        i2_low=100.0 * b.lb / (vt + b.lb),
        i2_high=100.0 * b.ub / (vt + b.ub),
        h2=fit.h2,
        h2_low=b.lb / vt + 1.0,
        h2_high=b.ub / vt + 1.0,
        lb_sign=b.lb_sign,
        ub_sign=b.ub_sign,
        ci_null=b.ci_null,
        tau2_low_truncated=b.lb_trunc,
        tau2_high_truncated=b.ub_trunc,
        tau2_max=tau2_max,
        converged=b.lb_ok and b.ub_ok,
        message="; ".join(b.messages()),
    )


def _confint_control(control: Mapping[str, Any] | None) -> dict:
    """metafor's ``confint(..., control=list(...))`` options (``tau2.max`` or ``tau2_max``),
    with its defaults."""
    opts = {"tol": _R_TOL, "maxiter": 1000, "tau2_max": None}
    for key, val in (control or {}).items():
        name = str(key).replace(".", "_")
        if name not in opts:
            raise ValueError(f"unknown control option {key!r}; expected one of {sorted(opts)}")
        opts[name] = val
    return opts


@dataclass
class _Bounds:
    """The Q-profile bounds of tau2, as metafor's ``confint.rma.uni`` sets them: each bound with
    its sign (``<``/``>`` when it lies at the end of the search interval), whether it was
    truncated there, whether its root finder converged; ``ci_null``: the interval is {0}."""

    lb: float = math.nan
    ub: float = math.nan
    lb_sign: str = ""
    ub_sign: str = ""
    ci_null: bool = False
    lb_trunc: bool = False
    ub_trunc: bool = False
    lb_ok: bool = False
    ub_ok: bool = False

    def messages(self) -> list[str]:
        return [f"root finder did not converge for the {which} bound"
                for which, ok in (("lower", self.lb_ok), ("upper", self.ub_ok)) if not ok]


def _q_profile(y: np.ndarray, v: np.ndarray, alpha: float, tau2_min: float, tau2_max: float,
               tol: float, maxiter: int) -> _Bounds:
    """The roots of ``Q(tau2) = qchisq(1 - alpha/2, k-1)`` (lower bound) and ``Q(tau2) =
    qchisq(alpha/2, k-1)`` (upper bound) on ``[tau2_min, tau2_max]`` by R's ``uniroot``, with
    metafor's rules where Q stays above or below a critical value over the whole interval."""
    model = _InterceptModel(_Segments(np.array([y.shape[0]])), v)
    df = y.shape[0] - 1.0
    crit_u = 2.0 * special.gammainccinv(df / 2.0, alpha / 2.0)  # qchisq(alpha/2, df, lower=FALSE)
    crit_l = 2.0 * special.gammaincinv(df / 2.0, alpha / 2.0)  # qchisq(alpha/2, df)

    def qfun(t):
        return model.rss(model.state(1.0 / (v + np.asarray(t, dtype=float))), y)

    q_max = float(qfun([tau2_max])[0])
    q_min = float(qfun([tau2_min])[0])

    def solve(objective: float) -> tuple[float, bool]:
        def f(t, idx):
            return qfun(t) - objective

        root, _, ok = _zeroin(
            f, np.array([tau2_min]), np.array([tau2_max]), np.array([q_min - objective]),
            np.array([q_max - objective]), tol, maxiter, np.array([True]),
        )
        return float(root[0]), bool(ok[0])

    b = _Bounds()
    if q_min < crit_l:
        b.lb = b.ub = tau2_min
        b.lb_sign = b.ub_sign = "<"
        b.lb_ok = b.ub_ok = True
        b.ub_trunc = b.lb_trunc = True
        if tau2_min <= 0:
            b.ci_null = True
    elif q_max > crit_l:
        b.ub, b.ub_sign, b.ub_ok, b.ub_trunc = tau2_max, ">", True, True
    else:
        b.ub, b.ub_ok = solve(crit_l)
    if q_max > crit_u:
        b.lb = b.ub = tau2_max
        b.lb_sign = b.ub_sign = ">"
        b.lb_ok = b.ub_ok = True
        b.lb_trunc = b.ub_trunc = True
    elif q_min < crit_u:
        b.lb, b.lb_ok, b.lb_trunc = tau2_min, True, True
        if tau2_min > 0:
            b.lb_sign = "<"
    else:
        b.lb, b.lb_ok = solve(crit_u)
    return b


def _typical_variance(v: np.ndarray) -> float:
    """metafor's typical within-study variance ``(k - 1) / (sum w - sum w^2 / sum w)``, ``w = 1/v``,
    summed as the engine sums a segment."""
    seg = _Segments(np.array([v.shape[0]]))
    w = 1.0 / v
    W0 = float(seg.sum(w)[0])
    return (v.shape[0] - 1.0) / (W0 - float(seg.sum(w * w)[0]) / W0)
