"""Effect sizes and their sampling variances (metafor ``escalc()`` equivalents).

Two-by-two tables use metafor's cell names throughout::

                 event   no event   total
    treatment     ai        bi      n1 = ai + bi
    control       ci        di      n2 = ci + di

If you hold events and sample sizes per arm, build the table with
:func:`table_from_events` (``bi = n1 - ai``, ``di = n2 - ci``).

Zero cells follow ``escalc()``: ``add`` (default 1/2) is added to **all four**
cells of a study according to ``to``:

``"only0"`` (default)
    only studies that have at least one zero cell;
``"all"``
    every study;
``"if0all"``
    every study, if at least one study has a zero cell;
``"none"``
    never (a zero cell then gives an infinite ``yi``/``vi``).

``drop00=True`` marks studies with no events in either arm (``ai == ci == 0``)
or only events in both arms (``bi == di == 0``) as not estimable: their
``yi`` and ``vi`` are ``nan`` (metafor returns ``NA``) and the continuity
correction is not applied to them.  ``escalc()``'s default is
``drop00=FALSE``: such studies keep a finite yi after the correction (near 0,
with a large variance), e.g. Yucel 2004 in ``dat.nielweise2007`` (0/118 vs
0/105) gets log OR = log((0.5/118.5)/(0.5/105.5)).  ``rma.mh()`` and
``rma.peto()`` default to ``drop00=TRUE`` for the yi/vi behind their Q.

Invalid input (negative counts, events > n, HR <= 0, CI lower >= upper,
level outside (0, 1), non-finite values) raises :class:`ValueError` naming
the first offending index.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validate import require_none

__all__ = [
    "EffectSizes",
    "table_from_events",
    "log_or",
    "log_rr",
    "risk_difference",
    "logit_proportion",
    "ft_double_arcsine",
    "transf_ilogit",
    "back_transform",
    "transf_ipft",
    "transf_ipft_hm",
    "proportion_ci_exact",
    "log_hr_from_ci",
]

_TO = ("only0", "all", "if0all", "none")


class EffectSizes(NamedTuple):
    """Effect sizes ``yi`` and sampling variances ``vi`` (unpack as ``yi, vi``)."""

    yi: np.ndarray
    vi: np.ndarray


# --------------------------------------------------------------------------- checks
def _arr(name: str, x) -> np.ndarray:
    a = np.atleast_1d(np.asarray(x, dtype=float))
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    require_none(~np.isfinite(a), f"{name} is missing or not finite")
    return a


def _same_len(**arrs) -> int:
    lens = {k: len(v) for k, v in arrs.items()}
    if len(set(lens.values())) != 1:
        raise ValueError(f"inputs differ in length: {lens}")
    return next(iter(lens.values()))


def _nonneg(**arrs) -> None:
    for name, a in arrs.items():
        require_none(a < 0, f"negative count in {name}")


def _check_to(to: str, add: float) -> None:
    if to not in _TO:
        raise ValueError(f"to must be one of {_TO}, got {to!r}")
    if not np.isfinite(add) or add < 0:
        raise ValueError(f"add must be a finite value >= 0, got {add!r}")


def _cc_rows(to: str, zero: np.ndarray) -> np.ndarray:
    """Rows that get the continuity correction under ``to`` (``zero``: rows with a zero cell)."""
    if to == "all":
        return np.ones(len(zero), bool)
    if to == "only0":
        return zero
    if to == "if0all":
        return np.full(len(zero), bool(zero.any()))
    return np.zeros(len(zero), bool)


def _tables(ai, bi, ci, di):
    ai, bi, ci, di = (_arr(n, x) for n, x in zip(("ai", "bi", "ci", "di"), (ai, bi, ci, di)))
    _same_len(ai=ai, bi=bi, ci=ci, di=di)
    _nonneg(ai=ai, bi=bi, ci=ci, di=di)
    return ai, bi, ci, di


def table_from_events(events1, n1, events2, n2):
    """Return ``(ai, bi, ci, di)`` from events and sample sizes per arm.

    Raises ValueError naming the index where events exceed n or a value is negative.
    """
    e1, n1, e2, n2 = (_arr(n, x) for n, x in zip(("events1", "n1", "events2", "n2"),
                                                  (events1, n1, events2, n2)))
    _same_len(events1=e1, n1=n1, events2=e2, n2=n2)
    _nonneg(events1=e1, n1=n1, events2=e2, n2=n2)
    for e, n, lab in ((e1, n1, "events1 > n1"), (e2, n2, "events2 > n2")):
        require_none(e > n, lab)
    return e1, n1 - e1, e2, n2 - e2


def _correct(ai, bi, ci, di, add, to, drop00):
    """Apply escalc()'s drop00 and continuity-correction rules (copies)."""
    _check_to(to, add)
    ai, bi, ci, di = (a.copy() for a in (ai, bi, ci, di))
    dropped = np.zeros(len(ai), bool)
    if drop00:
        dropped = ((ai == 0) & (ci == 0)) | ((bi == 0) & (di == 0))
    zero = ((ai == 0) | (bi == 0) | (ci == 0) | (di == 0)) & ~dropped
    sel = _cc_rows(to, zero)
    for a in (ai, bi, ci, di):
        a[sel] += add
    return ai, bi, ci, di, dropped


def _finish(yi, vi, dropped) -> EffectSizes:
    yi = np.where(dropped, np.nan, yi)
    vi = np.where(dropped, np.nan, vi)
    return EffectSizes(yi, vi)


# --------------------------------------------------------------------------- 2x2
def log_or(ai, bi, ci, di, *, add=0.5, to="only0", drop00=False) -> EffectSizes:
    """Log odds ratios, as ``escalc(measure="OR", ai, bi, ci, di, add, to, drop00)``.

    ``yi = log((ai/bi) / (ci/di))`` and ``vi = 1/ai + 1/bi + 1/ci + 1/di``
    on the corrected table (see the module docstring for ``add``/``to``/``drop00``).

    Returns
    -------
    EffectSizes
        ``(yi, vi)`` arrays; ``nan`` for studies removed by ``drop00``.
    """
    ai, bi, ci, di = _tables(ai, bi, ci, di)
    a, b, c, d, dropped = _correct(ai, bi, ci, di, add, to, drop00)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1 = a / (a + b)
        p2 = c / (c + d)
        yi = np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2))
        vi = 1 / a + 1 / b + 1 / c + 1 / d
    return _finish(yi, vi, dropped)


def log_rr(ai, bi, ci, di, *, add=0.5, to="only0", drop00=False) -> EffectSizes:
    """Log risk ratios, as ``escalc(measure="RR", ai, bi, ci, di, add, to, drop00)``.

    ``yi = log(ai/n1) - log(ci/n2)``, ``vi = 1/ai - 1/n1 + 1/ci - 1/n2``
    on the corrected table.
    """
    ai, bi, ci, di = _tables(ai, bi, ci, di)
    a, b, c, d, dropped = _correct(ai, bi, ci, di, add, to, drop00)
    n1, n2 = a + b, c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        yi = np.log(a / n1) - np.log(c / n2)
        vi = 1 / a - 1 / n1 + 1 / c - 1 / n2
    return _finish(yi, vi, dropped)


def risk_difference(ai, bi, ci, di, *, add=0.5, to="only0", drop00=False,
                    vtype="LS") -> EffectSizes:
    """Risk differences, as ``escalc(measure="RD", ai, bi, ci, di, add, to, drop00, vtype)``.

    ``yi = ai/n1 - ci/n2``.  ``vtype="LS"`` (metafor's default) gives
    ``vi = p1(1-p1)/n1 + p2(1-p2)/n2``; ``vtype="UB"`` divides by ``n - 1``.
    Like ``escalc()``, the continuity correction is applied to RD as well.
    """
    if vtype not in ("LS", "UB"):
        raise ValueError("vtype must be 'LS' or 'UB'")
    ai, bi, ci, di = _tables(ai, bi, ci, di)
    a, b, c, d, dropped = _correct(ai, bi, ci, di, add, to, drop00)
    n1, n2 = a + b, c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = a / n1, c / n2
        yi = p1 - p2
        off = 0.0 if vtype == "LS" else 1.0
        vi = p1 * (1 - p1) / (n1 - off) + p2 * (1 - p2) / (n2 - off)
    return _finish(yi, vi, dropped)


# --------------------------------------------------------------------------- proportions
def _props(xi, ni):
    xi, ni = _arr("xi", xi), _arr("ni", ni)
    _same_len(xi=xi, ni=ni)
    _nonneg(xi=xi, ni=ni)
    require_none(xi > ni, "events xi > ni")
    require_none(ni <= 0, "ni <= 0")
    return xi, ni


def _props_corrected(xi, ni, add, to):
    """Checked counts: ``(x, mi, c)``, corrected events ``x = xi + c``, non-events
    ``mi = ni - xi`` (uncorrected) and the per-row continuity correction ``c``."""
    xi, ni = _props(xi, ni)
    _check_to(to, add)
    mi = ni - xi
    c = add * _cc_rows(to, (xi == 0) | (mi == 0))
    return xi + c, mi, c


def logit_proportion(xi, ni, *, add=0.5, to="only0") -> EffectSizes:
    """Logit proportions, as ``escalc(measure="PLO", xi, ni, add, to)``.

    ``yi = log(x / (n - x))``, ``vi = 1/x + 1/(n - x)``; with ``to="only0"``
    ``add`` is added to ``x`` and ``n - x`` when either is zero.
    Back-transform estimates with :func:`transf_ilogit`.
    """
    x, mi, c = _props_corrected(xi, ni, add, to)
    m = mi + c
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / (x + m)
        yi = np.log(p / (1 - p))
        vi = 1 / x + 1 / m
    return EffectSizes(yi, vi)


def ft_double_arcsine(xi, ni, *, add=0.0, to="only0") -> EffectSizes:
    """Freeman-Tukey double arcsine, as ``escalc(measure="PFT", xi, ni)``.

    ``yi = (asin(sqrt(x/(n+1))) + asin(sqrt((x+1)/(n+1)))) / 2``,
    ``vi = 1 / (4n + 2)``.  Like metafor, the default ``add`` is 0 for this
    measure.  Back-transform with :func:`transf_ipft_hm` (pooled estimates)
    or :func:`transf_ipft` (single studies).
    """
    x, mi, c = _props_corrected(xi, ni, add, to)
    n = x + mi + c
    yi = 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))
    vi = 1.0 / (4 * n + 2)
    return EffectSizes(yi, vi)


def transf_ilogit(x):
    """Inverse logit, as metafor's ``transf.ilogit(x)`` (``plogis``)."""
    from scipy.special import expit

    return expit(np.asarray(x, dtype=float))


# ------------------------------------------------------------- back-transform
_BACK = {"identity": lambda x: x, "log": np.exp, "logit": transf_ilogit}


def back_transform(x, scale: str = "log"):
    """Map values from the analysis scale back to the natural scale.

    ``scale="log"`` (log RR, log OR, log HR) applies ``exp`` (metafor
    ``transf=exp``); ``"logit"`` (pooled proportions) applies the inverse
    logit (metafor ``transf=transf.ilogit``); ``"identity"`` returns ``x``
    unchanged.

    Parameters
    ----------
    x : float or array_like
    scale : {"log", "logit", "identity"}

    Returns
    -------
    float or numpy.ndarray
        Same shape as ``x``.
    """
    try:
        fn = _BACK[str(scale)]
    except KeyError:
        raise ValueError(f"unknown scale {scale!r}; expected one of {sorted(_BACK)}") from None
    if np.isscalar(x):
        return float(fn(float(x)))
    return fn(np.asarray(x, dtype=float))


def _pft(p, n):
    return 0.5 * (np.arcsin(np.sqrt(n * p / (n + 1))) + np.arcsin(np.sqrt((n * p + 1) / (n + 1))))


def transf_ipft(x, ni):
    """Inverse Freeman-Tukey transform (Miller 1978), as ``transf.ipft(xi, ni)``.

    Values beyond the transform of 0 or 1 at ``ni`` are clamped to 0 / 1.
    """
    x = np.asarray(x, dtype=float)
    n = np.asarray(ni, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.sin(2 * x)
        z = 0.5 * (1 - np.sign(np.cos(2 * x)) * np.sqrt(1 - (s + (s - 1 / s) / n) ** 2))
    z = np.where(np.isnan(z), np.nan, z)
    z = np.where(x > _pft(1.0, n), 1.0, z)
    z = np.where(x < _pft(0.0, n), 0.0, z)
    return z


def transf_ipft_hm(x, ni):
    """Inverse Freeman-Tukey transform at the harmonic mean of ``ni``.

    Matches metafor's ``transf.ipft.hm(x, targs = list(ni = ni))``: Miller's
    inversion with ``n = 1 / mean(1 / ni)``; used for pooled PFT estimates
    and their CI limits.
    """
    ni = _arr("ni", ni)
    require_none(ni <= 0, "ni <= 0")
    nhm = 1.0 / np.mean(1.0 / ni)
    return transf_ipft(x, nhm)


def proportion_ci_exact(xi, ni, level=0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Clopper-Pearson) confidence limits of each proportion ``xi / ni``, as R's
    ``binom.test(xi, ni, conf.level = level)$conf.int``: the ``(1 - level) / 2`` and ``(1 + level) / 2``
    quantiles of Beta(x, n - x + 1) and Beta(x + 1, n - x), with 0 for x = 0 and 1 for x = n. No
    continuity correction: 0 of 23 gives 0 to 0.148.

    Returns ``(lower, upper)`` arrays on the proportion scale. Raises :class:`ValueError` for
    negative counts, ``xi > ni``, ``ni <= 0`` or a level outside (0, 1).
    """
    from scipy.special import betaincinv

    xi, ni = _props(xi, ni)
    lev = np.broadcast_to(_arr("level", level), xi.shape) if np.ndim(level) == 0 else _arr("level", level)
    _same_len(xi=xi, level=lev)
    require_none((lev <= 0) | (lev >= 1), "level outside (0, 1)")
    a = (1 - lev) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(xi == 0, 0.0, betaincinv(xi, ni - xi + 1, a))
        hi = np.where(xi == ni, 1.0, betaincinv(xi + 1, ni - xi, 1 - a))
    return lo, hi


# --------------------------------------------------------------------------- hazard ratios
def log_hr_from_ci(hr, ci_low, ci_high, level=0.95) -> EffectSizes:
    """Log hazard ratio and its variance from a reported HR and CI.

    ``yi = log(hr)`` and ``vi = ((log(ci_high) - log(ci_low)) / (2 z))^2`` with
    ``z = Phi^-1(1 - (1 - level)/2)`` (:func:`~livemeta.pooling._dist.z_crit`: 1.6449 for 90 %, 1.9600 for 95 %).  This is
    what metafor's ``conv.wald(out = hr, ci.lb, ci.ub, level, transf = log)``
    computes in metafor >= 4.0 (absent from the 3.8 used for the reference
    file, so the tests use the closed form).

    Parameters
    ----------
    hr, ci_low, ci_high : array_like
        Hazard ratio and confidence limits on the ratio scale (> 0).
    level : float or array_like
        Confidence level of each interval, in (0, 1) (e.g. 0.95, 0.9, 0.8).

    Raises
    ------
    ValueError
        Naming the first index with hr <= 0, ci_low <= 0, ci_low >= ci_high,
        or a level outside (0, 1).  The HR need not lie inside its CI (rounded
        reports sometimes violate this); the CI width alone determines vi.
    """
    from ._dist import z_crit

    hr, lo, hi = _arr("hr", hr), _arr("ci_low", ci_low), _arr("ci_high", ci_high)
    n = _same_len(hr=hr, ci_low=lo, ci_high=hi)
    lev = np.broadcast_to(_arr("level", level), (n,)) if np.ndim(level) == 0 else _arr("level", level)
    _same_len(hr=hr, level=lev)
    for name, a in (("hr", hr), ("ci_low", lo), ("ci_high", hi)):
        require_none(a <= 0, f"{name} <= 0")
    require_none(lo >= hi, "ci_low >= ci_high")
    require_none((lev <= 0) | (lev >= 1), "level outside (0, 1)")
    z = z_crit(lev)
    yi = np.log(hr)
    vi = ((np.log(hi) - np.log(lo)) / (2 * z)) ** 2
    return EffectSizes(yi, vi)
