"""Log hazard ratios from what a trial reports (Parmar, Torri & Stewart 1998; Tierney et al. 2007).

Pure numpy/scipy; every function takes arrays (scalars broadcast) and returns
:class:`~livemeta.pooling.effects.EffectSizes` (``yi`` = log HR, ``vi`` its
variance).  A reported HR with a CI is :func:`~livemeta.pooling.effects.log_hr_from_ci`.
Oracle: the R functions of guido-s/calcTE (``calcTE.pval``, ``calcTE.OE``,
``calcTE.ci``), see tests/pooling/reference/make_reference_hazard.R.

``z`` below is the normal quantile of the p-value as printed: ``z_{1 - p/2}``
for a two-sided p, ``z_{1 - p}`` for a one-sided one (a one-sided p is the
two-sided ``2 p``, valid for p < 0.5: the reported direction is the tested one).

* :func:`log_hr_from_p` - HR and p: ``vi = (log HR / z)^2`` (Parmar 1998, sec. 4.1).
* :func:`log_hr_from_p_events` - p and events, no HR (Parmar sec. 4.3; Tierney
  eq. 13-14): ``O - E = +-sqrt(V) z``, ``yi = (O - E) / V``, ``vi = 1 / V`` with
  ``V = D r / (1 + r)^2`` for D events in all and allocation ratio r = n_e / n_c
  (``D / 4`` for 1:1; Parmar eq. 8 and 11, calcTE "method1"), or
  ``V = E_e E_c / (E_e + E_c)`` from the events per arm (eq. 12, "method2").
* :func:`log_hr_from_oe` - log-rank O - E and its variance V: ``yi = (O - E) / V``,
  ``vi = 1 / V`` (eq. 4 and 6).
* :func:`log_hr_from_observed_expected` - observed and expected events per arm:
  ``yi = log((O_e / E_e) / (O_c / E_c))``, ``vi = 1 / E_e + 1 / E_c`` (eq. 3 and 5).
* :func:`log_hr_from_logrank` - a log-rank chi-square on 1 df, ``z = sqrt(chi2)``,
  with the HR (``vi = log(HR)^2 / chi2``) or with events as :func:`log_hr_from_p_events`.

The SQL views derive the same quantities from study-file columns
(``queries/views/analysis_rct_hr.sql``); tests/test_views.py checks that they
agree with these functions.
"""

from __future__ import annotations

import numpy as np

from ._dist import norm_isf
from ._validate import require_none
from .effects import EffectSizes, _arr

__all__ = [
    "log_hr_from_p",
    "log_hr_from_p_events",
    "log_hr_from_oe",
    "log_hr_from_observed_expected",
    "log_hr_from_logrank",
    "z_from_p",
]


def _bcast(**arrs) -> dict[str, np.ndarray]:
    try:
        out = np.broadcast_arrays(*arrs.values())
    except ValueError:
        raise ValueError(f"inputs differ in length: { {k: np.size(v) for k, v in arrs.items()} }") from None
    return {k: np.array(v, dtype=float) for k, v in zip(arrs, out)}


def z_from_p(p, sided: int = 2) -> np.ndarray:
    """Normal quantile of a p-value as printed: ``z_{1 - p/2}`` (two-sided) or ``z_{1 - p}``."""
    p = _arr("p", p)
    require_none((p <= 0) | (p >= 1), "p outside (0, 1)")
    if sided == 2:
        return norm_isf(p / 2.0)
    if sided == 1:
        require_none(p >= 0.5, "one-sided p >= 0.5 (the effect lies against the tested direction)")
        return norm_isf(p)
    raise ValueError(f"sided must be 1 or 2, got {sided!r}")


def log_hr_from_p(hr, p, *, sided: int = 2) -> EffectSizes:
    """Log HR and variance from a reported HR and its p-value: ``vi = (log HR / z)^2``.

    Matches ``calcTE.pval(estimate = hr, p.value = p, sm = "HR")`` (two-sided;
    a one-sided p is passed to calcTE as ``2 p``).
    """
    a = _bcast(hr=_arr("hr", hr), p=_arr("p", p))
    require_none(a["hr"] <= 0, "hr <= 0")
    require_none(a["hr"] == 1, "hr == 1 (a p-value carries no variance for a null estimate)")
    z = z_from_p(a["p"], sided)
    yi = np.log(a["hr"])
    return EffectSizes(yi, (yi / z) ** 2)


def _variance_from_events(events_e, events_c, events, n_e, n_c, ratio, variance):
    if events is not None:
        if events_e is not None or events_c is not None:
            raise ValueError("give either the events per arm or the total events, not both")
        if variance != "total":
            raise ValueError("with total events only, variance must be 'total' (D r / (1 + r)^2)")
        a = _bcast(d=_arr("events", events), r=_arr("ratio", ratio))
        require_none(a["d"] <= 0, "events <= 0")
        require_none(a["r"] <= 0, "ratio <= 0")
        return a["d"] * a["r"] / (1.0 + a["r"]) ** 2
    if events_e is None or events_c is None:
        raise ValueError("give the events per arm (events_e and events_c) or the total events")
    a = _bcast(e=_arr("events_e", events_e), c=_arr("events_c", events_c))
    require_none((a["e"] < 0) | (a["c"] < 0), "negative events")
    require_none(a["e"] + a["c"] <= 0, "no events")
    if variance == "product":  # Parmar eq. 12 (calcTE method2)
        require_none((a["e"] == 0) | (a["c"] == 0), "an arm without events (V = E_e E_c / D = 0)")
        return a["e"] * a["c"] / (a["e"] + a["c"])
    if variance != "total":
        raise ValueError(f"variance must be 'total' or 'product', got {variance!r}")
    d = a["e"] + a["c"]
    if n_e is None and n_c is None:
        b = _bcast(d=d, r=_arr("ratio", ratio))
        require_none(b["r"] <= 0, "ratio <= 0")
        return b["d"] * b["r"] / (1.0 + b["r"]) ** 2
    if n_e is None or n_c is None:
        raise ValueError("give both n_e and n_c (or an allocation ratio)")
    b = _bcast(d=d, ne=_arr("n_e", n_e), nc=_arr("n_c", n_c))
    require_none((b["ne"] <= 0) | (b["nc"] <= 0), "n <= 0")
    return b["d"] * b["ne"] * b["nc"] / (b["ne"] + b["nc"]) ** 2  # Parmar eq. 11


def _from_z_and_v(z, v, hr_above_1) -> EffectSizes:
    a = _bcast(z=z, v=v, up=np.asarray(hr_above_1, dtype=bool).astype(float))
    oe = np.sqrt(a["v"]) * a["z"] * np.where(a["up"] > 0, 1.0, -1.0)
    return EffectSizes(oe / a["v"], 1.0 / a["v"])


def log_hr_from_p_events(p, *, hr_above_1, events_e=None, events_c=None, events=None, n_e=None,
                         n_c=None, ratio=1.0, sided: int = 2, variance: str = "total") -> EffectSizes:
    """Log HR from a (log-rank) p-value and the numbers of events, without an HR.

    Parameters
    ----------
    p : array_like
        The p-value as printed.
    hr_above_1 : bool or array_like of bool
        Direction of the effect (calcTE's ``above.null``): ``False`` when the
        experimental arm did better (HR < 1).
    events_e, events_c : array_like, optional
        Events per arm.
    events : array_like, optional
        Total events (instead of per arm), with ``ratio``.
    n_e, n_c : array_like, optional
        Patients per arm (allocation ratio ``n_e / n_c``; calcTE's ``n.e``, ``n.c``).
    ratio : float or array_like
        Allocation ratio ``n_e / n_c`` when the arm sizes are not given (1 = 1:1).
    sided : {1, 2}
    variance : {"total", "product"}
        ``"total"``: ``V = D r / (1 + r)^2`` (calcTE method1);
        ``"product"``: ``V = E_e E_c / (E_e + E_c)`` (calcTE method2; events per arm).
    """
    z = z_from_p(p, sided)
    v = _variance_from_events(events_e, events_c, events, n_e, n_c, ratio, variance)
    return _from_z_and_v(z, v, hr_above_1)


def log_hr_from_oe(o_minus_e, v) -> EffectSizes:
    """Log HR from the log-rank observed minus expected events and its variance V."""
    a = _bcast(oe=_arr("o_minus_e", o_minus_e), v=_arr("v", v))
    require_none(a["v"] <= 0, "v <= 0")
    return EffectSizes(a["oe"] / a["v"], 1.0 / a["v"])


def log_hr_from_observed_expected(obs_e, exp_e, obs_c, exp_c) -> EffectSizes:
    """Log HR from observed and expected events in each arm (Parmar eq. 3, 5)."""
    a = _bcast(oe=_arr("obs_e", obs_e), ee=_arr("exp_e", exp_e), oc=_arr("obs_c", obs_c),
               ec=_arr("exp_c", exp_c))
    for name, key in (("obs_e", "oe"), ("exp_e", "ee"), ("obs_c", "oc"), ("exp_c", "ec")):
        require_none(a[key] <= 0, f"{name} <= 0")
    return EffectSizes(np.log((a["oe"] / a["ee"]) / (a["oc"] / a["ec"])), 1.0 / a["ee"] + 1.0 / a["ec"])


def log_hr_from_logrank(chisq, *, hr=None, hr_above_1=None, events_e=None, events_c=None,
                        events=None, n_e=None, n_c=None, ratio=1.0,
                        variance: str = "total") -> EffectSizes:
    """Log HR from a log-rank chi-square (1 df): ``z = sqrt(chi2)``.

    With ``hr``: ``yi = log HR``, ``vi = log(HR)^2 / chi2``.  Without: as
    :func:`log_hr_from_p_events` with the events (and ``hr_above_1``).
    """
    c = _arr("chisq", chisq)
    require_none(c <= 0, "chisq <= 0")
    z = np.sqrt(c)
    if hr is not None:
        a = _bcast(hr=_arr("hr", hr), z=z)
        require_none(a["hr"] <= 0, "hr <= 0")
        yi = np.log(a["hr"])
        return EffectSizes(yi, (yi / a["z"]) ** 2)
    if hr_above_1 is None:
        raise ValueError("without an HR, give its direction (hr_above_1) and the events")
    v = _variance_from_events(events_e, events_c, events, n_e, n_c, ratio, variance)
    return _from_z_and_v(z, v, hr_above_1)
