"""Is a reported hazard ratio's variance possible? Checks of printed numbers, allowing for rounding.

Two facts about a log hazard ratio from a log-rank (or Cox) analysis of D events:

* its variance is at least 4 / D: ``V = D r / (1 + r)^2`` for allocation ratio r is largest, D / 4,
  at 1:1 (Parmar, Torri & Stewart 1998, eq. 8 and 11), and ``var(ln HR) = 1 / V``. A variance
  ``vi`` therefore implies at least ``4 / vi`` events, whatever the allocation: more than the
  patients randomised is impossible;
* the P value the interval implies, ``z = |ln HR| / se`` with ``se`` from the CI at its level, is
  the printed one up to rounding.

The printed numbers are rounded. Every check here lets each printed number move anywhere within
half a unit of its last printed decimal (0.92 stands for 0.915 to 0.925): a flag is raised only when
no set of unrounded values agrees (``printed_range``). Pure numpy/scipy; scalars or arrays in.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from ._dist import norm_isf, z_crit

__all__ = ["printed_range", "min_events", "check_many", "hr_findings"]


def _half_unit(x: float) -> float:
    """Half a unit of the last decimal of ``x`` as written (its shortest repr): 0.05 -> 0.005."""
    text = repr(float(x))
    if "e" in text or "E" in text:
        mant, exp = text.lower().split("e")
        dec = len(mant.split(".")[1]) if "." in mant and mant.split(".")[1] != "0" else 0
        return 0.5 * 10.0 ** (int(exp) - dec)
    frac = text.split(".")[1] if "." in text else ""
    dec = 0 if frac in ("", "0") else len(frac)
    return 0.5 * 10.0 ** (-dec)


def printed_range(x: float) -> tuple[float, float]:
    """The values a printed ``x`` may stand for: ``x`` +- half a unit of its last decimal."""
    h = _half_unit(x)
    return x - h, x + h


def min_events(vi) -> np.ndarray:
    """The fewest events a log hazard ratio of variance ``vi`` needs: ``4 / vi`` (1:1 allocation;
    any other allocation needs more)."""
    return 4.0 / np.asarray(vi, dtype=float)


def _p_text(p: float) -> str:
    return f"{p:.2g}" if p >= 0.001 else "< 0.001"


def _half_units(x: np.ndarray) -> np.ndarray:
    """:func:`_half_unit` of every element (nan where ``x`` is not finite)."""
    return np.array([_half_unit(v) if math.isfinite(v) else math.nan for v in x.tolist()], dtype=float)


def _col(x, k: int) -> np.ndarray:
    a = np.asarray(x, dtype=float) if x is not None else np.full(k, np.nan)
    return np.broadcast_to(a, (k,)).astype(float) if a.ndim == 0 else a.astype(float)


def check_many(*, hr, ci_low, ci_high, level, p_value, p_sided, n, vi, derivation) -> dict[str, np.ndarray]:
    """:func:`hr_findings` for many hazard ratios at once (arrays of equal length; nan where
    missing; ``p_sided`` and ``derivation`` sequences of strings or None). Returns the arrays
    ``events`` (the fewest events each variance implies, nan when not computable), ``events_flag``,
    ``p_low`` / ``p_high`` (the two-sided P the CI implies, over rounding) and ``p_flag``."""
    deriv = np.array([str(d) if d is not None else "ci" for d in derivation], dtype=object)
    k = len(deriv)
    hr, lo, hi, lev, p, n, vi = (_col(x, k) for x in (hr, ci_low, ci_high, level, p_value, n, vi))
    sided = [s if isinstance(s, str) else None for s in p_sided]
    with np.errstate(all="ignore"):
        z = z_crit(lev)
        hlo, hhi, hhr, hp = _half_units(lo), _half_units(hi), _half_units(hr), _half_units(p)
        ci_ok = (deriv == "ci") & np.isfinite(lo) & np.isfinite(hi) & (lo > 0) & (lo < hi) & (lev > 0) & (lev < 1)
        se_wide = (np.log(hi + hhi) - np.log(np.maximum(lo - hlo, 1e-300))) / (2 * z)
        se_narrow = np.maximum((np.log(hi - hhi) - np.log(np.maximum(lo + hlo, 1e-300))) / (2 * z), 0.0)
        a, b = np.maximum(hr - hhr, 1e-300), hr + hhr
        la, lb = np.abs(np.log(a)), np.abs(np.log(b))
        lmin = np.where((a <= 1) & (1 <= b), 0.0, np.minimum(la, lb))
        lmax = np.maximum(la, lb)
        # the variance from the printed P: |ln HR| / z_p, largest with |ln HR| largest and P largest
        ks = np.array([1.0 if s == "one" else 2.0 for s in sided])
        zp_low = norm_isf(np.minimum(p + hp, 1.0) / ks)
        p_ok = (deriv == "p_value") & np.isfinite(hr) & (hr > 0) & (hr != 1) & np.isfinite(p) & (p > 0) & (p < 1)
        se_p = np.where(zp_low > 0, lmax / zp_low, np.inf)
        other = ~ci_ok & ~p_ok & (deriv != "ci") & (deriv != "p_value") & np.isfinite(vi) & (vi > 0)
        events = np.where(ci_ok, 4.0 / se_wide**2, np.where(p_ok, 4.0 / se_p**2, np.where(other, 4.0 / vi, np.nan)))
        events_flag = np.isfinite(events) & np.isfinite(n) & (n > 0) & (events > n)
        p_low = 2 * special.ndtr(-np.where(se_narrow > 0, lmax / se_narrow, np.inf))
        p_high = 2 * special.ndtr(-lmin / se_wide)
    check_p = ci_ok & np.isfinite(hr) & (hr > 0) & np.isfinite(p) & (p > 0) & (p <= 1)
    p_flag = np.zeros(k, dtype=bool)
    for i in np.flatnonzero(check_p):
        p_flag[i] = not _p_agrees((float(p_low[i]), float(p_high[i])), float(p[i]), sided[i])
    return {"events": events, "events_flag": events_flag, "p_low": p_low, "p_high": p_high, "p_flag": p_flag}


def _p_agrees(implied: tuple[float, float], printed: float, sided: str | None) -> bool:
    """Whether a printed P (within its rounding) lies in the range the CI implies: two-sided, or
    one-sided in either direction (a one-sided P of the tested direction can exceed 0.5); a P
    whose sidedness is not recorded agrees when any reading does."""
    lo, hi = printed_range(printed)
    two = (implied[0], implied[1])
    one = (implied[0] / 2, implied[1] / 2)
    other = (1 - one[1], 1 - one[0])
    ranges = {"two": [two], "one": [one, other]}.get(sided or "", [two, one, other])
    return any(a <= hi and lo <= b for a, b in ranges)


def finding_texts(i: int, found: dict[str, np.ndarray], *, hr, ci_low, ci_high, level, p_value, p_sided, n,
                  derivation: str) -> list[tuple[str, str]]:
    """The ``(kind, reason)`` of row ``i`` of :func:`check_many`'s result."""
    out = []
    if found["events_flag"][i]:
        if derivation == "ci":
            basis = f"its {100 * level:g}% CI {ci_low:g}–{ci_high:g}"
        elif derivation == "p_value":
            basis = f"its variance from HR {hr:g} and P {p_value:g}"
        else:
            basis = "its variance"
        out.append(("events", f"{basis} implies at least {math.floor(found['events'][i]):.0f} events (4 / variance of "
                              f"ln HR, the fewest any allocation allows, numbers at the edges of their rounding), "
                              f"more than the {n:.0f} patients randomised"))
    if found["p_flag"][i]:
        side = "one" if p_sided == "one" else "two"
        lo, hi = float(found["p_low"][i]), float(found["p_high"][i])
        if side == "one":
            lo, hi = lo / 2, hi / 2
        out.append(("p_value", f"read at {100 * level:g}%, HR {hr:g} ({ci_low:g}–{ci_high:g}) implies a {side}-sided "
                               f"P of {_p_text(lo)}–{_p_text(hi)}, not the printed {p_value:g}"))
    return out


def hr_findings(*, hr: float | None, ci_low: float | None, ci_high: float | None, level: float | None,
                p_value: float | None = None, p_sided: str | None = None, n: float | None = None,
                vi: float | None = None, derivation: str = "ci") -> list[tuple[str, str]]:
    """What is implausible about one hazard ratio as an analysis reads it: ``[(kind, reason)]`` with
    kind ``events`` (the variance implies more events than the ``n`` patients randomised) or
    ``p_value`` (the CI implies a P that the printed one is not, beyond rounding). ``derivation``
    is how the variance was obtained (``ci`` at ``level``, a fraction; ``p_value`` from the printed P;
    anything else: ``vi`` as given). Missing inputs make no finding (:func:`check_many` for many)."""
    def f(x):
        return math.nan if x is None else float(x)

    found = check_many(hr=[f(hr)], ci_low=[f(ci_low)], ci_high=[f(ci_high)], level=[f(level)], p_value=[f(p_value)],
                       p_sided=[p_sided], n=[f(n)], vi=[f(vi)], derivation=[derivation])
    return finding_texts(0, found, hr=f(hr), ci_low=f(ci_low), ci_high=f(ci_high), level=f(level), p_value=f(p_value),
                         p_sided=p_sided, n=f(n), derivation=derivation)
