"""Pooling of 2x2 tables: Mantel-Haenszel and Peto (metafor ``rma.mh``, ``rma.peto``).

Tables use metafor's cell names (see :mod:`livemeta.pooling.effects`):
``ai``/``bi`` events / non-events in the treatment arm, ``ci``/``di`` in the
control arm.  Both estimators return the uniform
:class:`~livemeta.pooling.results.PoolResult` (``method="MH"`` or
``"PETO"``, ``tau2 = 0``); the Cochran-Mantel-Haenszel and Breslow-Day /
Tarone tests of the MH odds ratio come from :func:`mh_tests`.

Continuity corrections follow ``rma.mh``/``rma.peto``: ``add``, ``to`` and
``drop00`` take one value or a pair.  The first element is used for the
per-study ``escalc()`` values ``yi``/``vi`` that enter the heterogeneity
test Q (defaults ``add=1/2``, ``to="only0"``, ``drop00=True``); the second
for the tables in the MH / Peto sums (defaults ``0``, ``"none"``,
``False``: the raw counts, which MH and Peto handle without correction).
A single value ``x`` means ``(x, 0)``, ``(x, "none")`` and ``(x, False)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from . import _dist as _d

from .effects import _tables, _check_to
from .results import PoolResult

__all__ = ["pool_mh", "pool_peto", "mh_tests", "MHTests"]

_SCALE = {"OR": "log", "RR": "log", "RD": "identity", "PETO": "log"}


def _pair(x, second):
    if isinstance(x, (tuple, list)):
        if len(x) != 2:
            raise ValueError("add/to/drop00 take one value or a pair")
        return tuple(x)
    return (x, second)


def _prep(ai, bi, ci, di, measure, add, to, drop00):
    """escalc yi/vi for Q (first-element options) and the tables for the sums."""
    from .effects import log_or, log_rr, risk_difference

    ai, bi, ci, di = _tables(ai, bi, ci, di)
    add, to, drop00 = _pair(add, 0.0), _pair(to, "none"), _pair(drop00, False)
    for t, a in zip(to, add):
        _check_to(t, a)
    f = {"OR": log_or, "RR": log_rr, "RD": risk_difference, "PETO": _peto_es}[measure]
    yi, vi = f(ai, bi, ci, di, add=add[0], to=to[0], drop00=bool(drop00[0]))
    keep = np.ones(ai.size, bool)
    if drop00[1]:
        keep = ~(((ai == 0) & (ci == 0)) | ((bi == 0) & (di == 0)))
    a, b, c, d = (x[keep].copy() for x in (ai, bi, ci, di))
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    sel = {"all": np.ones(a.size, bool), "only0": zero,
           "if0all": np.full(a.size, bool(zero.any())), "none": np.zeros(a.size, bool)}[to[1]]
    for x in (a, b, c, d):
        x[sel] += add[1]
    ok = np.isfinite(yi) & np.isfinite(vi)
    return a, b, c, d, keep, yi[ok], vi[ok], int(ai.size - ok.sum())


def _peto_es(ai, bi, ci, di, *, add, to, drop00):
    """escalc(measure = "PETO"): yi = (ai - E)/V, vi = 1/V on the corrected table."""
    from .effects import _correct

    a, b, c, d, dropped = _correct(ai, bi, ci, di, add, to, drop00)
    n1, n2 = a + b, c + d
    n = n1 + n2
    xt, yt = a + c, b + d
    with np.errstate(divide="ignore", invalid="ignore"):
        e = xt * n1 / n
        v = xt * yt * (n1 / n) * (n2 / n) / (n - 1)
        yi, vi = (a - e) / v, 1 / v
    return np.where(dropped, np.nan, yi), np.where(dropped, np.nan, vi)


def _heterogeneity(yi, vi, beta):
    k = yi.size
    if k > 1:
        q = max(0.0, float(np.sum((yi - beta) ** 2 / vi)))
        q_df = k - 1
        q_p = float(_d.chi2_sf(q, q_df))
        i2 = max(0.0, 100.0 * (q - q_df) / q) if q > 0 else 0.0
        h2 = q / q_df
    else:
        q, q_df, q_p, i2, h2 = 0.0, 0, 1.0, 0.0, 1.0
    return q, q_df, q_p, i2, h2


def _result(method, measure, level, k, beta, se, het, weights_kept, keep, message):
    q, q_df, q_p, i2, h2 = het
    crit = _d.norm_isf((1 - level) / 2)
    nan = float("nan")
    if np.isfinite(beta) and np.isfinite(se) and se > 0:
        z = beta / se
        p = float(2 * _d.norm_sf(abs(z)))
        lo, hi = beta - crit * se, beta + crit * se
    else:
        z = p = lo = hi = nan
    w = np.zeros(keep.size)
    tot = float(np.sum(weights_kept))
    if tot > 0:
        w[keep] = weights_kept / tot * 100.0
    return PoolResult(
        method=method, test="z", level=float(level), k=int(k), estimate=float(beta),
        se=float(se), stat=float(z), df=nan, p=float(p), ci_low=float(lo), ci_high=float(hi),
        tau2=0.0, tau2_se=nan, tau=0.0, i2=float(i2), h2=float(h2), i2_q=float(i2),
        q=float(q), q_df=int(q_df), q_p=float(q_p), pi_low=float(lo), pi_high=float(hi),
        pi_dist="normal", scale=_SCALE[measure], converged=True, n_iter=0, message=message,
        weights=tuple(float(x) for x in w),
    )


def _check_level(level):
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")


def _msg(n_na, measure):
    if n_na:
        return (f"{n_na} table(s) without an estimable {measure} (drop00 or zero cells) "
                "left out of Q")
    return ""


def pool_mh(ai, bi, ci, di, *, measure="OR", level=0.95, correct=True, add=0.5, to="only0",
            drop00=True) -> PoolResult:
    """Mantel-Haenszel pooled OR, RR or RD, as ``rma.mh(ai, bi, ci, di, measure, ...)``.

    Parameters
    ----------
    ai, bi, ci, di : array_like
        2x2 cell counts per study (events / non-events, treatment then control).
    measure : {"OR", "RR", "RD"}
        Log odds ratio, log risk ratio or risk difference.
    level : float
        Confidence level in (0, 1) (metafor ``level = 100 * level``).
    correct : bool
        Continuity correction of the CMH test (only used by :func:`mh_tests`;
        accepted here for symmetry with ``rma.mh``).
    add, to, drop00
        Zero-cell handling, one value or a pair (module docstring).

    Returns
    -------
    PoolResult
        ``method="MH"``.  ``estimate``/``se`` are on the log scale for OR/RR.
        Variances: Robins-Breslow-Greenland (OR), Greenland-Robins (RR), and
        for RD the Sato / Greenland-Robins variance that metafor uses.
        ``q``, ``i2``, ``h2`` come from the escalc ``yi``/``vi`` (metafor's
        ``QE``); ``weights`` are the MH weights in percent (``bi ci / N``
        for OR, ``ci n1 / N`` for RR, ``n1 n2 / N`` for RD; 0 for tables
        removed by ``drop00[1]``).
    """
    measure = measure.upper()
    if measure not in ("OR", "RR", "RD"):
        raise ValueError("measure must be 'OR', 'RR' or 'RD'")
    _check_level(level)
    a, b, c, d, keep, yi, vi, n_na = _prep(ai, bi, ci, di, measure, add, to, drop00)
    if a.size == 0:
        raise ValueError("no tables left (k = 0)")
    n1, n2 = a + b, c + d
    N = n1 + n2
    nan = float("nan")
    msg = _msg(n_na, measure)
    if measure == "OR":
        P = a / N + d / N
        Qm = b / N + c / N
        R = (a / N) * d
        S = (b / N) * c
        Rs, Ss = R.sum(), S.sum()
        if Rs == 0 or Ss == 0:
            beta = se = nan
            msg = (msg + "; " if msg else "") + "MH odds ratio not estimable (R or S = 0)"
        else:
            beta = float(np.log(Rs / Ss))
            se = float(np.sqrt(0.5 * (np.sum(P * R) / Rs**2 + np.sum(P * S + Qm * R) / (Rs * Ss)
                                      + np.sum(Qm * S) / Ss**2)))
        w = (b / N) * c
    elif measure == "RR":
        Rs = float(np.sum(a * (n2 / N)))
        Ss = float(np.sum(c * (n1 / N)))
        if a.sum() == 0 or c.sum() == 0:
            beta = se = nan
            msg = (msg + "; " if msg else "") + "MH risk ratio not estimable (no events in an arm)"
        else:
            beta = float(np.log(Rs / Ss))
            se = float(np.sqrt(np.sum((n1 / N) * (n2 / N) * (a + c) - (a / N) * c) / (Rs * Ss)))
        w = (c / N) * n1
    else:
        den = float(np.sum(n1 * (n2 / N)))
        beta = float(np.sum(a * (n2 / N) - c * (n1 / N)) / den)
        se = float(np.sqrt((beta * np.sum(c * (n1 / N) ** 2 - a * (n2 / N) ** 2
                                          + (n1 / N) * (n2 / N) * (n2 - n1) / 2)
                            + np.sum(a * (n2 - c) / N + c * (n1 - a) / N) / 2) / den**2))
        w = (n1 / N) * n2
    het = _heterogeneity(yi, vi, beta)
    return _result("MH", measure, level, a.size, beta, se, het, w, keep, msg)


def pool_peto(ai, bi, ci, di, *, level=0.95, add=0.5, to="only0", drop00=True) -> PoolResult:
    """Peto's one-step log odds ratio, as ``rma.peto(ai, bi, ci, di, ...)``.

    ``estimate = sum(O - E) / sum(V)``, ``se = 1 / sqrt(sum(V))`` with the
    hypergeometric mean ``E`` and variance ``V`` of ``ai``.  ``q`` is
    metafor's Peto heterogeneity statistic ``sum((O-E)^2/V) - (sum(O-E))^2 /
    sum(V)`` with ``k - 1`` df.  ``weights`` are ``V`` in percent.
    ``add``/``to``/``drop00`` only affect the per-study escalc values (the
    number of studies counted in Q's df); see the module docstring.
    """
    _check_level(level)
    a, b, c, d, keep, yi, vi, n_na = _prep(ai, bi, ci, di, "PETO", add, to, drop00)
    if a.size == 0:
        raise ValueError("no tables left (k = 0)")
    n1, n2 = a + b, c + d
    N = n1 + n2
    xt, yt = a + c, b + d
    E = xt * n1 / N
    with np.errstate(divide="ignore", invalid="ignore"):
        V = xt * yt * (n1 / N) * (n2 / N) / (N - 1)
    V = np.where(np.isfinite(V), V, 0.0)
    sv = float(V.sum())
    if sv == 0:
        raise ValueError("one of the two outcomes never occurred in any table; "
                         "Peto's method cannot be used")
    beta = float(np.sum(a - E) / sv)
    se = float(np.sqrt(1 / sv))
    pos = V > 0
    k_yi = yi.size
    q = max(0.0, float(np.sum((a - E)[pos] ** 2 / V[pos]) - np.sum(a - E) ** 2 / V[pos].sum()))
    if pos.sum() > 1:
        q_df = k_yi - 1
        het = (q, q_df, float(_d.chi2_sf(q, q_df)),
               max(0.0, 100 * (q - q_df) / q) if q > 0 else 0.0, q / q_df)
    else:
        het = (q, max(k_yi - 1, 0), 1.0, 0.0, 1.0)
    return _result("PETO", "PETO", level, a.size, beta, se, het, V, keep, _msg(n_na, "Peto OR"))


@dataclass(frozen=True)
class MHTests:
    """Tests for stratified 2x2 tables (``rma.mh(measure = "OR")``).

    ``cmh``/``cmh_p``: Cochran-Mantel-Haenszel test with variance denominators
    ``N - 1`` (metafor ``MH``, ``MHp``); ``cochran``/``cochran_p`` the same with
    ``N`` (metafor ``CO``, ``COp``); both 1 df and continuity corrected when
    ``correct``.  ``breslow_day``/``tarone`` (metafor ``BD``, ``TA``): tests of
    homogeneity of the odds ratios on ``k_pos - 1`` df, where ``k_pos`` counts
    tables with both outcomes present and a positive fitted cell.
    """

    cmh: float
    cmh_p: float
    cochran: float
    cochran_p: float
    breslow_day: float
    breslow_day_p: float
    tarone: float
    tarone_p: float
    k_pos: int
    correct: bool

    def to_dict(self) -> dict:
        return asdict(self)


def mh_tests(ai, bi, ci, di, *, correct=True, add=0.5, to="only0", drop00=True) -> MHTests:
    """CMH test and Breslow-Day / Tarone tests, as the ``MH``, ``CO``, ``BD``, ``TA``
    components of ``rma.mh(ai, bi, ci, di, measure = "OR", correct = correct)``.
    """
    a, b, c, d, keep, _, _, _ = _prep(ai, bi, ci, di, "OR", add, to, drop00)
    n1, n2 = a + b, c + d
    N = n1 + n2
    xt, yt = a + c, b + d
    nan = float("nan")
    cc = 0.5 if correct else 0.0
    if xt.sum() == 0 or yt.sum() == 0:
        co = co_p = cmh = cmh_p = nan
    else:
        num = (abs(np.sum(a - (n1 / N) * xt)) - cc) ** 2
        co = float(num / np.sum((n1 / N) * (n2 / N) * (xt * (yt / N))))
        cmh = float(num / np.sum((n1 / N) * (n2 / N) * (xt * (yt / (N - 1)))))
        co_p, cmh_p = float(_d.chi2_sf(co, 1)), float(_d.chi2_sf(cmh, 1))
    R = np.sum((a / N) * d)
    S = np.sum((b / N) * c)
    if R == 0 or S == 0:
        return MHTests(cmh, cmh_p, co, co_p, nan, nan, nan, nan, 0, bool(correct))
    psi = R / S
    if psi == 1:
        n11 = (n1 / N) * xt
    else:
        A = psi * (n1 + xt) + (n2 - xt)
        B = np.sqrt(A**2 - 4 * n1 * xt * psi * (psi - 1))
        n11 = (A - B) / (2 * (psi - 1))
    pos = (n11 > 0) & (xt > 0) & (yt > 0)
    k_pos = int(pos.sum())
    n11 = n11[pos]
    n12 = n1[pos] - n11
    n21 = xt[pos] - n11
    n22 = n11 - n1[pos] - xt[pos] + N[pos]
    inv = 1 / (1 / n11 + 1 / n12 + 1 / n21 + 1 / n22)
    bd = max(0.0, float(np.sum((a[pos] - n11) ** 2 / inv)))
    ta = max(0.0, bd - float(np.sum(a[pos] - n11) ** 2 / np.sum(inv)))
    if k_pos > 1:
        bd_p = float(_d.chi2_sf(bd, k_pos - 1))
        ta_p = float(_d.chi2_sf(ta, k_pos - 1))
    else:
        bd_p = ta_p = nan
    return MHTests(cmh, cmh_p, co, co_p, bd, bd_p, ta, ta_p, k_pos, bool(correct))
