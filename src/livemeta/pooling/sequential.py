"""Sequential monitoring of a cumulative meta-analysis (trial sequential analysis).

Pure numpy/scipy.  Two layers:

* :func:`group_sequential_design` - Lan-DeMets alpha-spending boundaries
  (O'Brien-Fleming type ``"asOF"``, Pocock type ``"asP"``) at given
  cumulative information fractions, optional beta-spending futility
  boundaries (``"bsOF"``, ``"bsP"``; one-sided designs, binding or not), the
  drift and inflation factor.  Oracle: R ``rpact``
  ``getDesignGroupSequential()`` / ``getDesignCharacteristics()``
  (tests/pooling/reference/make_reference_sequential.R).
  User-defined cumulative spending (``"asUser"``, rpact's ``userAlphaSpending``).
* :func:`required_information`, :func:`diversity` and :func:`monitor` - the
  trial-sequential-analysis view of a cumulative meta-analysis on a log scale
  (log HR, log OR, log RR): required information size from a target effect,
  alpha and power, heterogeneity adjustment by diversity D^2 (Wetterslev et al.
  2009), information as the sum of inverse variances (or events / 4 for log
  hazard ratios), the cumulative z at each update from the model the adjustment
  assumes (:func:`monitoring_model`: random effects with an adjustment, fixed
  effect without), and the boundaries at the cumulative information fractions;
  at and past the required information either the alpha-preserving final
  analysis (Jennison & Turnbull 2000, sec. 7.2.2) or the TSA software's reused
  final boundary (:data:`OVERRUN_RULES`), with the type I error the boundaries
  as applied spend (:func:`crossing_probability`). Oracle: rpact
  (tests/pooling/reference/make_reference_overrun.R) and, for the bundled
  analyses, metafor with rpact (tests/living/reference/make_monitoring_reference.R).

Spending functions (rpact's definitions; ``t`` the information fraction,
``alpha`` the one- or two-sided level):

* ``asOF``: ``2 * sided * (1 - Phi(z_{1 - alpha / (2 sided)} / sqrt(t)))``;
* ``asP``: ``alpha * log(1 + (e - 1) t)``;
* ``bsOF``: ``2 * (1 - Phi(z_{1 - beta / 2} / sqrt(t)))``; ``bsP`` as ``asP``.

Boundary crossing probabilities are computed by recursive numerical
integration (Armitage, McPherson & Rowe 1969; Jennison & Turnbull 2000,
ch. 19) with composite 12-point Gauss-Legendre rules whose panels span at
most 2.5 standard deviations of the transition kernel, and boundaries are solved to 1e-12;
rpact uses a 91-point Newton-Cotes grid and stops its bisections at 1e-8,
which bounds the agreement (see the tests).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import special

from ._dist import norm_isf

__all__ = [
    "DESIGN_TYPES",
    "BETA_SPENDING_TYPES",
    "GroupSequentialDesign",
    "group_sequential_design",
    "spending",
    "required_information",
    "diversity",
    "Monitoring",
    "monitor",
    "monitor_many",
    "monitoring_model",
    "crossing_probability",
    "OVERRUN_RULES",
]

DESIGN_TYPES = ("asOF", "asP", "asUser")
#: what happens at looks at or beyond the required information (see :func:`monitor`)
OVERRUN_RULES = ("alpha_preserving", "final_boundary")
BETA_SPENDING_TYPES = ("none", "bsOF", "bsP")
_XTOL = 1e-12
_GL_X, _GL_W = np.polynomial.legendre.leggauss(12)
_PANEL_SD = 2.5  # Gauss-Legendre panels span at most this many kernel standard deviations
_SPAN = 9.0  # integrate densities over mean +- 9 (they are below N(mean, 1) there: < 1e-18)


def _phi(x):
    return np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _Phi(x):
    return special.ndtr(x)


def _z(p):
    """Upper quantile z_{1-p}."""
    return float(norm_isf(p))


def spending(t, alpha: float, kind: str, sided: int = 1):
    """Cumulative error spent at information fraction(s) ``t`` (rpact's spending functions)."""
    t = np.asarray(t, dtype=float)
    if kind == "asOF":  # upper tails as Phi(-x): 1 - Phi(x) would cancel for small t
        return 2.0 * sided * _Phi(-_z(alpha / (2.0 * sided)) / np.sqrt(t))
    if kind == "bsOF":
        return 2.0 * _Phi(-_z(alpha / 2.0) / np.sqrt(t))
    if kind in ("asP", "bsP"):
        return alpha * np.log(1.0 + (math.e - 1.0) * t)
    raise ValueError(f"unknown spending function {kind!r}; expected asOF, asP, bsOF or bsP")


# ------------------------------------------------------------------ integration
def _nodes(lo: float, hi: float, width: float):
    """Composite Gauss-Legendre nodes and weights on [lo, hi] with panels <= width."""
    if not hi > lo:
        return np.empty(0), np.empty(0)
    n = max(1, int(math.ceil((hi - lo) / width)))
    edges = np.linspace(lo, hi, n + 1)
    half = (edges[1:] - edges[:-1])[:, None] / 2.0
    mid = (edges[1:] + edges[:-1])[:, None] / 2.0
    return (mid + half * _GL_X).ravel(), (half * _GL_W).ravel()


class _Path:
    """Sub-densities of Z_1..Z_k on the continuation regions, built stage by stage.

    ``t``: information fractions; ``drift``: E[Z_k] = drift * sqrt(t_k).
    After stage k is added, ``g`` holds weight * sub-density of Z_k at ``x``
    (the probability of reaching stage k + 1 with Z_k in a small interval).
    Composite 12-point Gauss-Legendre panels spanning at most 2.5 standard
    deviations of the transition kernels; integration over mean +- 9 where a
    region is unbounded.
    """

    crit_range = (0.0, 40.0)
    fut_range = (-40.0, 40.0)

    def __init__(self, t: np.ndarray, drift: float):
        self.t = np.asarray(t, dtype=float)
        self.drift = float(drift)
        self.k = 0
        self.x = None
        self.g = None

    def _kernel_args(self, k: int):
        """Mean shift and sd of Z_k given Z_{k-1} = u: mean = a u + b."""
        t0, t1 = self.t[k - 2], self.t[k - 1]
        dt = t1 - t0
        a = math.sqrt(t0 / t1)
        b = self.drift * dt / math.sqrt(t1)
        return a, b, math.sqrt(dt / t1)

    def tails(self, k: int, lower: float, upper: float) -> tuple[float, float]:
        """P(reach stage k, Z_k <= lower), P(reach stage k, Z_k >= upper)."""
        if k == 1:
            m = self.drift * math.sqrt(self.t[0])
            return float(_Phi(lower - m)), float(_Phi(m - upper))
        a, b, s = self._kernel_args(k)
        mu = a * self.x + b
        lo = float(np.dot(self.g, _Phi((lower - mu) / s))) if np.isfinite(lower) else 0.0
        up = float(np.dot(self.g, _Phi((mu - upper) / s))) if np.isfinite(upper) else 0.0
        return lo, up

    def advance(self, lower: float, upper: float) -> None:
        """Add stage k + 1 with continuation region (lower, upper)."""
        k = self.k + 1
        tk = self.t[k - 1]
        m = self.drift * math.sqrt(tk)
        lo, hi = max(lower, m - _SPAN), min(upper, m + _SPAN)
        # panel width: 2.5 sd of this stage's kernel and of the next one's (a 12-point rule is exact to
        # ~1e-15 for a normal density over 2.5 sd), at most 2
        widths = [2.0]
        if k >= 2:
            widths.append(_PANEL_SD * math.sqrt((tk - self.t[k - 2]) / tk))
        if k < len(self.t):
            widths.append(_PANEL_SD * math.sqrt((self.t[k] - tk) / tk))
        x, w = _nodes(lo, hi, min(widths))
        if k == 1:
            dens = _phi(x - m)
        else:
            a, b, s = self._kernel_args(k)
            mu = a * self.x + b  # (n_prev,)
            dens = (_phi((x[:, None] - mu[None, :]) / s) @ self.g) / s
        self.x, self.g, self.k = x, w * dens, k


class _RpactPath(_Path):
    """rpact 3.3.4's integration, replayed (``getGroupSequentialProbabilitiesCpp``).

    The drift is applied by shifting the boundaries by ``drift * sqrt(t_k)``;
    boundaries are then clamped to [-6, 8] (rpact's ``C_FUTILITY_BOUNDS_DEFAULT``
    and ``C_UPPER_BOUNDS_DEFAULT``) and each continuation region carries 91
    points with the composite 7-point Newton-Cotes weights
    ``(246, 1296, 162, 1632, 162, 1296, 492, ...) dx / 840``.  Critical values
    are searched in [0, 8], futility bounds in [-6, 5], as rpact does.
    """

    crit_range = (0.0, 8.0)
    fut_range = (-6.0, 5.0)
    _M = 91
    _W = np.r_[246.0, np.tile([1296.0, 162.0, 1632.0, 162.0, 1296.0, 492.0], 15)[:-1], 246.0] / 840.0

    def _shift(self, k: int, bound: float) -> float:
        b = bound - self.drift * math.sqrt(self.t[k - 1])
        return min(max(b, -6.0), 8.0)

    def tails(self, k: int, lower: float, upper: float) -> tuple[float, float]:
        lo_b, up_b = self._shift(k, lower), self._shift(k, upper)
        if k == 1:
            return float(_Phi(lo_b)), float(1.0 - _Phi(up_b))
        t0, t1 = self.t[k - 2], self.t[k - 1]
        sd = math.sqrt(t1 - t0)
        lo = float(np.dot(self.g, _Phi((lo_b * math.sqrt(t1) - self.x * math.sqrt(t0)) / sd)))
        below_up = float(np.dot(self.g, _Phi((up_b * math.sqrt(t1) - self.x * math.sqrt(t0)) / sd)))
        return lo, self._reach - below_up

    def advance(self, lower: float, upper: float) -> None:
        k = self.k + 1
        lo_b, up_b = self._shift(k, lower), self._shift(k, upper)
        # probability of continuing past stage k (rpact: probs(2, k) = probs(1, k-1) - probs(0, k-1))
        if k == 1:
            reach = float(_Phi(up_b) - _Phi(lo_b))
        else:
            t0, t1 = self.t[k - 2], self.t[k - 1]
            sd = math.sqrt(t1 - t0)
            reach = sum((1 if b is up_b else -1) * float(np.dot(
                self.g, _Phi((b * math.sqrt(t1) - self.x * math.sqrt(t0)) / sd))) for b in (up_b, lo_b))
        dx = (up_b - lo_b) / (self._M - 1)
        x = lo_b + np.arange(self._M) * dx
        if k == 1:
            dens = _phi(x)
        else:
            t0, t1 = self.t[k - 2], self.t[k - 1]
            eps = t1 - t0
            part1 = math.sqrt(t1 / eps)
            dens = part1 * (_phi((x[:, None] * math.sqrt(t1) - self.x[None, :] * math.sqrt(t0))
                                 / math.sqrt(eps)) @ self.g)
        self.x, self.g, self.k, self._reach = x, self._W * dx * dens, k, reach

    def __init__(self, t, drift):
        super().__init__(t, drift)
        self._reach = 1.0


_QUADRATURE = {"gauss-legendre": _Path, "rpact": _RpactPath}


def _solve(f, lo: float, hi: float) -> float:
    """Root of a decreasing or increasing f on [lo, hi]; the nearer end when f keeps its sign."""
    flo, fhi = f(lo), f(hi)
    if flo == 0.0:
        return lo
    if fhi == 0.0:
        return hi
    if flo * fhi > 0:  # bisection (rpact) ends at the end where |f| is smaller
        return lo if abs(flo) < abs(fhi) else hi
    return brentq(f, lo, hi, xtol=_XTOL, rtol=4 * np.finfo(float).eps, maxiter=500)


def brentq(f, xa: float, xb: float, *, xtol: float, rtol: float, maxiter: int) -> float:
    """``scipy.optimize.brentq(f, xa, xb, xtol=, rtol=, maxiter=)``: Brent's method as scipy's
    ``Zeros/brentq.c`` runs it, step for step (the same iterates and root; a test holds the two
    together), without importing ``scipy.optimize`` (0.3 s). ``f(xa)`` and ``f(xb)`` must differ in
    sign; raises RuntimeError after ``maxiter`` iterations, as scipy does."""
    xpre, xcur = float(xa), float(xb)
    xblk = fblk = spre = scur = 0.0
    fpre, fcur = float(f(xpre)), float(f(xcur))
    if fpre == 0.0:
        return xpre
    if fcur == 0.0:
        return xcur
    if math.copysign(1.0, fpre) == math.copysign(1.0, fcur):
        raise ValueError("f(a) and f(b) must have different signs")
    for _ in range(maxiter):
        if fpre != 0.0 and fcur != 0.0 and math.copysign(1.0, fpre) != math.copysign(1.0, fcur):
            xblk, fblk = xpre, fpre
            spre = scur = xcur - xpre
        if abs(fblk) < abs(fcur):
            xpre, xcur, xblk = xcur, xblk, xcur
            fpre, fcur, fblk = fcur, fblk, fcur
        delta = (xtol + rtol * abs(xcur)) / 2
        sbis = (xblk - xcur) / 2
        if fcur == 0.0 or abs(sbis) < delta:
            return xcur
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            if xpre == xblk:  # interpolate
                stry = -fcur * (xcur - xpre) / (fcur - fpre)
            else:  # extrapolate
                dpre = (fpre - fcur) / (xpre - xcur)
                dblk = (fblk - fcur) / (xblk - xcur)
                stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
            if 2 * abs(stry) < min(abs(spre), 3 * abs(sbis) - delta):  # good short step
                spre, scur = scur, stry
            else:  # bisect
                spre = scur = sbis
        else:  # bisect
            spre = scur = sbis
        xpre, fpre = xcur, fcur
        xcur += scur if abs(scur) > delta else (delta if sbis > 0 else -delta)
        fcur = float(f(xcur))
    raise RuntimeError(f"Failed to converge after {maxiter} iterations, value is {xcur}")


# ------------------------------------------------------------------ design
@dataclass(frozen=True)
class GroupSequentialDesign:
    """Boundaries of a group sequential design on the z scale (rpact's field names in comments).

    Attributes
    ----------
    information_rates : tuple of float      (informationRates)
    critical_values : tuple of float        (criticalValues; upper, and -c below when sided = 2)
    futility_bounds : tuple of float        (futilityBounds, stages 1..K-1; empty without beta spending)
    alpha_spent : tuple of float            (alphaSpent, cumulative)
    stage_levels : tuple of float           (stageLevels: 1 - Phi(c_k), one-sided)
    beta_spent, power : tuple of float      (betaSpent, power; cumulative, under the drift)
    drift : float                           (sqrt of getDesignCharacteristics()$shift)
    inflation_factor : float                (getDesignCharacteristics()$inflationFactor)
    quadrature : str                        ("gauss-legendre", or "rpact" for rpact's own grid)
    """

    type_of_design: str
    alpha: float
    beta: float
    sided: int
    type_beta_spending: str
    binding_futility: bool
    information_rates: tuple
    critical_values: tuple
    futility_bounds: tuple
    alpha_spent: tuple
    stage_levels: tuple
    beta_spent: tuple = ()
    power: tuple = ()
    drift: float = float("nan")
    inflation_factor: float = float("nan")
    quadrature: str = "gauss-legendre"
    method: str = "Lan-DeMets spending functions; recursive numerical integration"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _critical_values(P, t, alpha, kind, sided, lower=None, spent=None):
    """Critical values from alpha spending under H0 (``lower``: binding futility bounds; ``spent``:
    the cumulative alpha to spend at each stage, instead of the spending function ``kind``)."""
    K = len(t)
    spent = spending(t, alpha, kind, sided) if spent is None else np.asarray(spent, dtype=float)
    path = P(t, 0.0)
    crit = []
    cum = 0.0

    def crossing(k, c):
        lo_tail, up_tail = path.tails(k, -c if sided == 2 else -np.inf, c)
        return up_tail + (lo_tail if sided == 2 else 0.0)

    for k in range(1, K + 1):
        target = spent[k - 1]
        if k == 1:
            c = _z(target / sided)
        else:
            c = _solve(lambda c: cum + crossing(k, c) - target, *P.crit_range)
        cum += crossing(k, c)
        crit.append(c)
        if k < K:
            lo_k = -np.inf if lower is None or k > len(lower) else lower[k - 1]
            path.advance(-c if sided == 2 else lo_k, c)
    return np.array(crit), spent


def _futility_bounds(P, t, crit, beta, kind, drift):
    """Beta-spending futility bounds under the drift (one-sided)."""
    K = len(t)
    bspent = spending(t, beta, kind)
    path = P(t, drift)
    fut = []
    cum = 0.0
    for k in range(1, K + 1):
        if k == 1:
            f_k = -float(norm_isf(bspent[0])) + drift * math.sqrt(t[0])
        else:
            f_k = _solve(lambda f: bspent[k - 1] - cum - path.tails(k, f, np.inf)[0], *P.fut_range)
        cum += path.tails(k, f_k, np.inf)[0]
        fut.append(f_k)
        if k < K:
            if f_k >= crit[k - 1]:  # the continuation region has closed: no later stage
                fut += [P.fut_range[1]] * (K - k)
                break
            path.advance(f_k, crit[k - 1])
    return np.array(fut)


def _probabilities(P, t, lower, upper, drift):
    """Per stage P(stop below), P(stop above) with continuation regions (lower_k, upper_k)."""
    path = P(t, drift)
    below, above = [], []
    for k in range(1, len(t) + 1):
        lo, up = path.tails(k, lower[k - 1], upper[k - 1])
        below.append(lo)
        above.append(up)
        if k < len(t):
            path.advance(lower[k - 1], upper[k - 1])
    return np.array(below), np.array(above)


def crossing_probability(information_rates: Sequence[float], upper: Sequence[float], *, sided: int = 2,
                         lower: Sequence[float] | None = None, drift: float = 0.0) -> float:
    """Probability that a z path crosses the given boundaries at some stage (the type I error of the
    boundaries as applied when ``drift`` = 0).

    ``upper``: the efficacy boundary at each stage (``inf`` where nothing is tested); two-sided
    (``sided=2``) the path also stops at ``-upper``; one-sided at ``lower`` when given (binding
    futility), else never below. ``information_rates``: increasing and positive, in any unit (only
    their ratios matter under H0; with a drift, rates relative to the last one). Oracle: rpact
    ``getGroupSequentialProbabilities()`` (tests/pooling/reference/make_reference_overrun.R).
    """
    t = np.asarray(information_rates, dtype=float).ravel()
    up = np.asarray(upper, dtype=float).ravel()
    if t.size == 0 or t.size != up.size or t[0] <= 0 or not np.all(np.diff(t) > 0) or np.isnan(up).any():
        raise ValueError("information_rates (increasing, > 0) and upper need one value per stage")
    t = t / t[-1]
    if sided == 2:
        lo = -up
    elif lower is None:
        lo = np.full(t.size, -np.inf)
    else:
        lo = np.asarray(lower, dtype=float).ravel()
    below, above = _probabilities(_Path, t, lo, up, drift)
    return float(above.sum() + (below.sum() if sided == 2 else 0.0))


def group_sequential_design(information_rates: Sequence[float], *, alpha: float = 0.025,
                            sided: int = 1, type_of_design: str = "asOF", beta: float = 0.2,
                            type_beta_spending: str = "none", binding_futility: bool = False,
                            quadrature: str = "gauss-legendre",
                            characteristics: bool = True,
                            user_alpha_spending: Sequence[float] | None = None) -> GroupSequentialDesign:
    """Lan-DeMets group sequential design, as rpact ``getDesignGroupSequential()``.

    Parameters
    ----------
    information_rates : sequence of float
        Cumulative information fractions, strictly increasing, in (0, 1], the
        last one 1.
    alpha : float
        Significance level (one-sided for ``sided=1``, two-sided for 2).
    sided : {1, 2}
        One-sided (upper boundary) or two-sided symmetric boundaries.
    type_of_design : {"asOF", "asP", "asUser"}
        O'Brien-Fleming or Pocock type alpha spending, or the cumulative alpha given in
        ``user_alpha_spending`` (rpact's ``typeOfDesign = "asUser"``, ``userAlphaSpending``).
    beta : float
        Type II error (for the drift, power and beta spending).
    type_beta_spending : {"none", "bsOF", "bsP"}
        Futility boundaries by beta spending (``sided=1`` only).
    binding_futility : bool
        Whether the critical values account for the futility boundaries.
    quadrature : {"gauss-legendre", "rpact"}
        ``"gauss-legendre"`` (default) integrates to about 1e-12;
        ``"rpact"`` replays rpact's 91-point Newton-Cotes grid and its search
        ranges, to reproduce rpact where its grid is coarse (looks very close
        together, many looks).
    characteristics : bool
        Also compute the drift and inflation factor of an alpha-spending design
        (rpact ``getDesignCharacteristics()``).
    user_alpha_spending : sequence of float
        With ``type_of_design="asUser"``: the cumulative alpha spent at each stage (two-sided in
        total for ``sided=2``, as rpact's ``userAlphaSpending``), strictly increasing, the last one
        ``alpha``.

    Returns
    -------
    GroupSequentialDesign
        With the drift (``sqrt(shift)``) that gives power ``1 - beta``
        (for a beta-spending design the drift where the boundaries meet) and
        the inflation factor ``drift^2 / (z_{1-alpha/sided} + z_{1-beta})^2``.
    """
    t = np.asarray(information_rates, dtype=float).ravel()
    if t.size < 1 or not np.all(np.diff(t) > 0) or t[0] <= 0 or abs(t[-1] - 1.0) > 1e-12:
        raise ValueError(f"information_rates must increase strictly from > 0 to 1, got {t.tolist()}")
    if type_of_design not in DESIGN_TYPES:
        raise ValueError(f"type_of_design must be one of {DESIGN_TYPES}, got {type_of_design!r}")
    if type_beta_spending not in BETA_SPENDING_TYPES:
        raise ValueError(f"type_beta_spending must be one of {BETA_SPENDING_TYPES}")
    if sided not in (1, 2):
        raise ValueError("sided must be 1 or 2")
    if not (0 < alpha < 0.5) or not (0 < beta < 0.5):
        raise ValueError("alpha and beta must lie in (0, 0.5)")
    if type_beta_spending != "none" and sided != 1:
        raise ValueError("beta-spending futility boundaries are available for one-sided designs only")
    user = None
    if type_of_design == "asUser":
        if user_alpha_spending is None:
            raise ValueError("type_of_design 'asUser' needs user_alpha_spending (the cumulative alpha per stage)")
        user = np.asarray(user_alpha_spending, dtype=float).ravel()
        if (user.size != t.size or not np.all(np.isfinite(user)) or user[0] <= 0 or not np.all(np.diff(user) > 0)
                or abs(user[-1] - alpha) > 1e-12 * max(1.0, alpha)):
            raise ValueError(f"user_alpha_spending must increase strictly from > 0 to alpha ({alpha!r}), one value "
                             f"per stage; got {user.tolist()}")
        if type_beta_spending != "none":
            raise ValueError("user-defined alpha spending is available without beta spending only")
    elif user_alpha_spending is not None:
        raise ValueError("user_alpha_spending goes with type_of_design='asUser'")
    if quadrature not in _QUADRATURE:
        raise ValueError(f"quadrature must be one of {sorted(_QUADRATURE)}")
    P = _QUADRATURE[quadrature]
    K = t.size
    n_fixed = (_z(alpha / sided) + _z(beta)) ** 2
    common = dict(type_of_design=type_of_design, alpha=alpha, beta=beta, sided=sided,
                  information_rates=tuple(t), quadrature=quadrature)
    if type_beta_spending == "none":
        crit, spent = _critical_values(P, t, alpha, type_of_design, sided, spent=user)
        drift = float("nan")
        power: tuple = ()
        if characteristics:
            # drift for power 1 - beta; rpact caps the critical values at 7.5 here
            capped = np.minimum(crit, 7.5)
            lower = -capped if sided == 2 else np.full(K, -np.inf)

            def pw(d):
                return float(_probabilities(P, t, lower, capped, d)[1].sum()) - (1.0 - beta)
            drift = _solve(pw, 0.0, 2.0 * math.sqrt(n_fixed))
            power = tuple(np.cumsum(_probabilities(P, t, lower, capped, drift)[1]))
        return GroupSequentialDesign(
            **common, type_beta_spending="none", binding_futility=False,
            critical_values=tuple(crit), futility_bounds=(), alpha_spent=tuple(spent),
            stage_levels=tuple(_Phi(-crit)), beta_spent=(), power=power,
            drift=drift, inflation_factor=drift**2 / n_fixed)

    if not binding_futility:
        crit, spent = _critical_values(P, t, alpha, type_of_design, 1)

        def gap(d):
            return _futility_bounds(P, t, crit, beta, type_beta_spending, d)[-1] - crit[-1]
        drift = _solve(gap, -4.0, 10.0)
        fut = _futility_bounds(P, t, crit, beta, type_beta_spending, drift)
    else:
        spent = spending(t, alpha, type_of_design, 1)
        bspent = spending(t, beta, type_beta_spending)

        def both(d):
            # rpact: for a given drift, critical value k (under H0, binding futility) then
            # futility bound k (under the drift), stage by stage
            h0, h1 = P(t, 0.0), P(t, d)
            c = np.full(K, np.nan)
            f = np.full(K, np.nan)
            cum0 = cum1 = 0.0
            for k in range(1, K + 1):
                if k == 1:
                    c[0] = _z(spent[0])
                    f[0] = -float(norm_isf(bspent[0])) + d * math.sqrt(t[0])
                else:
                    c[k - 1] = _solve(lambda x: cum0 + h0.tails(k, -np.inf, x)[1] - spent[k - 1],
                                      *P.crit_range)
                    f[k - 1] = _solve(lambda x: bspent[k - 1] - cum1 - h1.tails(k, x, np.inf)[0],
                                      *P.fut_range)
                cum0 += h0.tails(k, -np.inf, c[k - 1])[1]
                cum1 += h1.tails(k, f[k - 1], np.inf)[0]
                if k < K:
                    if f[k - 1] >= c[k - 1]:  # continuation region closed: f "above" c
                        f[K - 1] = np.inf
                        break
                    h0.advance(f[k - 1], c[k - 1])
                    h1.advance(f[k - 1], c[k - 1])
            return c, f

        def gap(d):
            c, f = both(d)
            g = c[-1] - f[-1]
            # a drift so large that futility closes the continuation region: f above c
            return -1.0 if math.isnan(g) else g
        drift = _solve(gap, -4.0, 10.0)
        crit, fut = both(drift)
    below, above = _probabilities(P, t, fut, crit, drift)
    return GroupSequentialDesign(
        **common, type_beta_spending=type_beta_spending, binding_futility=bool(binding_futility),
        critical_values=tuple(crit), futility_bounds=tuple(fut[:-1]), alpha_spent=tuple(spent),
        stage_levels=tuple(_Phi(-crit)), beta_spent=tuple(np.cumsum(below)),
        power=tuple(np.cumsum(above)), drift=drift, inflation_factor=drift**2 / n_fixed)


# ------------------------------------------------------------------ trial sequential analysis
def required_information(target: float, *, alpha: float = 0.05, power: float = 0.8,
                         sided: int = 2) -> float:
    """Fixed-design information to detect ``target`` (on the analysis scale, e.g. log HR).

    ``(z_{1 - alpha / sided} + z_{power})^2 / target^2``; for a log hazard ratio
    with 1:1 allocation the number of events is 4 times this (Schoenfeld).
    """
    if not (np.isfinite(target) and target != 0):
        raise ValueError(f"target effect must be finite and non-zero, got {target!r}")
    if not (0 < alpha < 1) or not (0 < power < 1) or sided not in (1, 2):
        raise ValueError("alpha and power must lie in (0, 1), sided in {1, 2}")
    return (_z(alpha / sided) + _z(1.0 - power)) ** 2 / target**2


def diversity(yi, vi, *, method: str = "DL") -> float:
    """Diversity D^2 = (v_R - v_F) / v_R (Wetterslev, Thorlund, Brok & Gluud 2009).

    ``v_F`` and ``v_R`` are the squared standard errors of the fixed-effect and
    the random-effects (``method``) pooled estimates; 0 when tau2 = 0.
    """
    from .core import pool

    fe = pool(yi, vi, method="FE")
    re = pool(yi, vi, method=method)
    if not re.converged:
        raise ValueError(f"random-effects model ({method}) did not converge: {re.message}")
    return max(0.0, 1.0 - fe.se**2 / re.se**2)


@dataclass(frozen=True)
class Monitoring:
    """A trial sequential analysis of a cumulative meta-analysis (one row per look).

    Boundaries are on the z scale and signed: ``efficacy_bound`` lies on the
    side of the target effect (negative for a target HR below 1), ``harm_bound``
    (two-sided) on the other side, ``futility_bound`` (one-sided, beta
    spending) between 0 and the efficacy boundary; NaN at a look where nothing
    is tested (after the final analysis under the alpha-preserving over-run
    rule). ``model`` is the model of the cumulative estimate and z: the
    random-effects model the heterogeneity adjustment assumes, or the fixed-effect
    model without adjustment. ``overrun`` is the rule for looks at or beyond the
    required information (:data:`OVERRUN_RULES`); ``overrun_look`` the index of the
    first such look (None before the required information is reached);
    ``alpha_total`` the probability under H0 that the z path crosses the
    boundaries as applied at these looks (``alpha`` under the alpha-preserving
    rule; more under ``final_boundary`` with looks past the required information).
    ``design`` holds the boundaries planned at the fractions below 1 and at 1;
    ``overrun_design`` those of the final analysis past 1 (alpha-preserving rule).
    """

    target: float
    alpha: float
    power: float
    sided: int
    type_of_design: str
    futility: str
    information_kind: str
    heterogeneity: str
    adjustment: float
    required_information: float
    required_information_adjusted: float
    model: str
    overrun: str
    design: GroupSequentialDesign = field(repr=False)
    looks: tuple = field(repr=False)
    k: np.ndarray = field(repr=False)
    information: np.ndarray = field(repr=False)
    fraction: np.ndarray = field(repr=False)
    estimate: np.ndarray = field(repr=False)
    se: np.ndarray = field(repr=False)
    z: np.ndarray = field(repr=False)
    efficacy_bound: np.ndarray = field(repr=False)
    harm_bound: np.ndarray = field(repr=False)
    futility_bound: np.ndarray = field(repr=False)
    alpha_spent: np.ndarray = field(repr=False)
    crossed: tuple = field(repr=False)
    conclusion: str = ""
    overrun_look: int | None = None
    alpha_total: float = float("nan")
    overrun_design: GroupSequentialDesign | None = field(default=None, repr=False)

    @property
    def tested(self) -> np.ndarray:
        """Whether each look was tested (False after the final analysis, alpha-preserving rule)."""
        return np.isfinite(self.efficacy_bound)

    def to_frame(self):
        """One row per look."""
        import pandas as pd

        return pd.DataFrame({
            "look": list(self.looks), "k": self.k, "information": self.information,
            "fraction": self.fraction, "estimate": self.estimate, "se": self.se, "z": self.z,
            "efficacy_bound": self.efficacy_bound, "harm_bound": self.harm_bound,
            "futility_bound": self.futility_bound, "alpha_spent": self.alpha_spent,
            "crossed": list(self.crossed),
        })

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k not in ("design", "overrun_design")}
        for key, val in out.items():
            if isinstance(val, np.ndarray):
                out[key] = val.tolist()
            elif isinstance(val, tuple):
                out[key] = list(val)
        out["design"] = self.design.to_dict()
        out["overrun_design"] = None if self.overrun_design is None else self.overrun_design.to_dict()
        return out


def _adjustment(heterogeneity, y, v, estimator: str) -> tuple[str, float]:
    if heterogeneity is None or heterogeneity == "none":
        return "none", 0.0
    if isinstance(heterogeneity, (int, float)) and not isinstance(heterogeneity, bool):
        val = float(heterogeneity)
        if not 0.0 <= val < 1.0:
            raise ValueError(f"a fixed heterogeneity adjustment must lie in [0, 1), got {val!r}")
        return f"fixed {val:g}", val
    if heterogeneity == "D2":
        return f"D2 ({estimator})", diversity(y, v, method=estimator) if y.size > 1 else 0.0
    if heterogeneity == "I2":
        from .core import pool

        return f"I2 ({estimator})", (pool(y, v, method=estimator).i2 / 100.0 if y.size > 1 else 0.0)
    raise ValueError(f"heterogeneity must be 'D2', 'I2', 'none' or a number in [0, 1), got {heterogeneity!r}")


def monitoring_model(heterogeneity, estimator: str = "DL") -> str:
    """The model of the cumulative z that goes with a heterogeneity adjustment: the random-effects
    model (``estimator``) the adjustment assumes (D^2, I^2 or a fixed value), the fixed-effect model
    without adjustment (``"none"``). Wetterslev et al. 2009; TSA manual (Thorlund et al. 2011)."""
    from .core import _check_method

    estimator = _check_method(estimator)
    if heterogeneity is None or heterogeneity == "none":
        return "FE"
    if estimator == "FE":
        raise ValueError(f"a heterogeneity adjustment ({heterogeneity}) assumes a random-effects model: the "
                         "estimator must be a tau2 estimator (DL as the TSA software, REML, ...), not FE; "
                         "use heterogeneity 'none' for a fixed-effect monitoring")
    return estimator


def _check_overrun(overrun: str) -> str:
    if overrun not in OVERRUN_RULES:
        raise ValueError(f"overrun must be one of {OVERRUN_RULES}, got {overrun!r}")
    return overrun


def _look_boundaries(frac: np.ndarray, *, alpha: float, sided: int, type_of_design: str, beta: float,
                     futility: str, binding_futility: bool, overrun: str, characteristics: bool,
                     cache: dict | None = None, quadrature: str = "gauss-legendre"):
    """The boundaries at looks with cumulative information fractions ``frac`` (increasing).

    Looks below 1 get the Lan-DeMets boundaries at their fractions (the same under both over-run
    rules). At and beyond 1: ``final_boundary`` (the TSA software's convention) reuses the boundary
    planned at fraction 1 at every such look; ``alpha_preserving`` makes the first such look the
    final analysis, spending what is left of alpha there with the correlations of the information
    actually accrued (Jennison & Turnbull 2000, sec. 7.2.2; rpact ``typeOfDesign = "asUser"``),
    and tests no later look (no alpha is left).

    ``quadrature``: as :func:`group_sequential_design`'s (``"rpact"`` to replay rpact's grid).

    Returns ``(crit, fut, spent, design, overrun_design, m)``: per look the efficacy critical value
    (positive; NaN where not tested), the futility bound (NaN without futility), the cumulative
    alpha spent, the planned and the over-run designs, and the index of the first look at or
    beyond 1 (None).
    """
    n = frac.size
    over = np.flatnonzero(frac >= 1.0)
    m = int(over[0]) if over.size else None
    nb = n if m is None else m
    below = tuple(float(f) for f in frac[:nb])
    key = ("planned", below)
    design = None if cache is None else cache.get(key)
    if design is None:
        design = group_sequential_design(list(below) + [1.0], alpha=alpha, sided=sided, type_of_design=type_of_design,
                                         beta=beta, type_beta_spending=futility, binding_futility=binding_futility,
                                         characteristics=characteristics, quadrature=quadrature)
        if cache is not None:
            cache[key] = design
    planned = np.array(design.critical_values)
    crit = np.full(n, np.nan)
    fut = np.full(n, np.nan)
    spent = np.full(n, float(alpha))
    crit[:nb] = planned[:nb]
    spent[:nb] = np.array(design.alpha_spent)[:nb]
    if futility != "none":
        fut[:nb] = np.array(list(design.futility_bounds) + [planned[-1]])[:nb]
    overrun_design = None
    if m is not None:
        if overrun == "final_boundary":
            crit[m:] = planned[-1]
        else:
            if futility != "none" and binding_futility:
                raise ValueError("binding futility bounds with the alpha-preserving over-run rule are not "
                                 "available; use overrun='final_boundary' or non-binding futility")
            rates = frac[: m + 1] / frac[m]
            key = ("overrun", tuple(float(r) for r in rates))
            overrun_design = None if cache is None else cache.get(key)
            if overrun_design is None:
                overrun_design = group_sequential_design(
                    rates, alpha=alpha, sided=sided, type_of_design="asUser", beta=beta,
                    user_alpha_spending=list(spent[:m]) + [alpha], characteristics=False, quadrature=quadrature)
                if cache is not None:
                    cache[key] = overrun_design
            crit[m] = overrun_design.critical_values[-1]
        if futility != "none":  # the final analysis: the continuation region closes
            fut[m:] = crit[m:]
    return crit, fut, spent, design, overrun_design, m


def monitor(yi, vi, looks, *, target: float, alpha: float = 0.05, power: float = 0.8,
            sided: int = 2, heterogeneity="D2", estimator: str = "DL",
            information: str = "inverse_variance", events=None, type_of_design: str = "asOF",
            futility: str = "none", binding_futility: bool = False,
            overrun: str = "alpha_preserving", characteristics: bool = True) -> Monitoring:
    """Trial sequential analysis of the cumulative meta-analysis of ``yi``, ``vi``.

    Parameters
    ----------
    yi, vi : array_like
        Study effects on the analysis scale (log HR, log OR, log RR) and variances.
    looks : array_like
        The update at which each study entered (a date, a revision number):
        look j pools every study with ``looks <= `` the j-th distinct value.
    target : float
        The clinically relevant effect on the analysis scale (e.g. ``log(0.80)``).
    alpha, power, sided
        Type I error (two-sided for ``sided=2``, spent per side as rpact does), power and sidedness.
    heterogeneity : {"D2", "I2", "none"} or float
        Adjustment of the required information, ``RIS / (1 - adjustment)``:
        diversity D^2 or I^2 of all studies under the random-effects model
        ``estimator``, none, or a fixed value.  The choice is recorded in the result.
    estimator : str
        The tau^2 estimator of the random-effects model (``pool(method=)``; DL as the TSA
        software). With an adjustment, the cumulative estimate and z come from that model (one
        model: Wetterslev et al. 2009, TSA manual); with ``heterogeneity="none"`` from the
        fixed-effect model.
    information : {"inverse_variance", "events"}
        Accrued information: the sum of ``1 / vi``, or (log hazard ratios)
        the number of events / 4, with ``events`` per study.
    type_of_design : {"asOF", "asP"}
        Alpha spending function.
    futility : {"none", "bsOF", "bsP"}
        Beta-spending futility boundaries (``sided=1`` only).
    overrun : {"alpha_preserving", "final_boundary"}
        Looks at or beyond the required information: the first is the final analysis, with what is
        left of alpha (later looks are not tested), or every one reuses the boundary planned at
        the required information (the TSA software's convention; the total alpha then exceeds
        ``alpha``, see ``alpha_total``).
    characteristics : bool
        Also compute the drift and inflation factor of the planned design (``design``; NaN
        without).
    """
    from .core import pool

    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    lk = np.asarray(looks).ravel()
    if not (y.size == v.size == lk.size) or y.size == 0:
        raise ValueError("yi, vi and looks must have the same, non-zero length")
    if type_of_design not in ("asOF", "asP"):
        raise ValueError(f"type_of_design must be 'asOF' or 'asP', got {type_of_design!r}")
    _check_overrun(overrun)
    if information == "inverse_variance":
        info_i = 1.0 / v
        kind = "sum of inverse variances"
    elif information == "events":
        if events is None:
            raise ValueError("information='events' needs the number of events per study")
        ev = np.asarray(events, dtype=float).ravel()
        if ev.size != y.size or not np.all(np.isfinite(ev) & (ev > 0)):
            raise ValueError("events must be positive numbers, one per study")
        info_i = ev / 4.0
        kind = "events / 4"
    else:
        raise ValueError(f"information must be 'inverse_variance' or 'events', got {information!r}")
    model = monitoring_model(heterogeneity, estimator)
    label, adj = _adjustment(heterogeneity, y, v, model)
    ris = required_information(target, alpha=alpha, power=power, sided=sided)
    ris_adj = ris / (1.0 - adj)
    order = np.argsort(lk, kind="stable")
    labels = list(dict.fromkeys(lk[order].tolist()))
    k, info, est, se, z = [], [], [], [], []
    for lab in labels:
        sel = lk <= lab
        r = pool(y[sel], v[sel], method=model)
        if not r.converged:
            raise ValueError(f"the {model} model of the look {lab} did not converge: {r.message}")
        k.append(int(sel.sum()))
        info.append(float(info_i[sel].sum()))
        est.append(r.estimate)
        se.append(r.se)
        z.append(r.estimate / r.se)
    info = np.array(info)
    frac = info / ris_adj
    crit, fut_b, spent, design, over_design, m = _look_boundaries(
        frac, alpha=alpha, sided=sided, type_of_design=type_of_design, beta=1.0 - power, futility=futility,
        binding_futility=binding_futility, overrun=overrun, characteristics=characteristics)
    tested = np.isfinite(crit)
    direction = 1.0 if target > 0 else -1.0
    z = np.array(z)
    zd = z * direction
    crossed = []
    for j in range(len(labels)):
        if not tested[j]:
            crossed.append("")
        elif zd[j] >= crit[j]:
            crossed.append("efficacy")
        elif sided == 2 and -zd[j] >= crit[j]:
            crossed.append("harm")
        elif futility != "none" and zd[j] <= fut_b[j]:
            crossed.append("futility")
        else:
            crossed.append("")
    first = next((j for j, c in enumerate(crossed) if c), None)
    if first is not None:
        conclusion = f"{crossed[first]} boundary crossed at look {labels[first]}"
    elif m is not None and overrun == "alpha_preserving":
        conclusion = f"required information reached at look {labels[m]} without crossing a boundary (final analysis)"
    elif m is not None:
        conclusion = "required information reached without crossing a boundary"
    else:
        conclusion = f"no boundary crossed; {100 * frac[-1]:.0f}% of the required information"
    binding = futility != "none" and binding_futility
    alpha_total = crossing_probability(frac, np.where(tested, crit, np.inf), sided=sided,
                                       lower=np.where(np.isfinite(fut_b), fut_b, -np.inf) if binding else None)
    return Monitoring(
        target=float(target), alpha=float(alpha), power=float(power), sided=int(sided),
        type_of_design=type_of_design, futility=futility, information_kind=kind,
        heterogeneity=label, adjustment=float(adj), required_information=float(ris),
        required_information_adjusted=float(ris_adj), model=model, overrun=overrun, design=design,
        looks=tuple(labels), k=np.array(k), information=info, fraction=frac,
        estimate=np.array(est), se=np.array(se), z=z, efficacy_bound=direction * crit,
        harm_bound=-direction * crit if sided == 2 else np.full(len(labels), np.nan),
        futility_bound=direction * fut_b, alpha_spent=spent, crossed=tuple(crossed), conclusion=conclusion,
        overrun_look=m, alpha_total=alpha_total, overrun_design=over_design,
    )


def monitor_many(frame, by, look: str, yi: str = "yi", vi: str = "vi", *, target: float, alpha: float = 0.05,
                 power: float = 0.8, sided: int = 2, heterogeneity="D2", estimator: str = "DL",
                 type_of_design: str = "asOF", overrun: str = "alpha_preserving"):
    """:func:`monitor` for every group of ``frame`` at once (the batch path).

    The cumulative meta-analyses of all looks of all analyses, and the fixed- and random-effects
    fits behind D^2, run through the vectorised pooling engine in three calls; boundaries are
    computed once per distinct set of information fractions.  Information is the sum of ``1 / vi``;
    the model of z is :func:`monitoring_model`'s, as in :func:`monitor`.

    Returns a :class:`pandas.DataFrame` with one row per analysis and look: the ``by`` columns,
    ``look``, ``k``, ``information``, ``fraction``, ``estimate``, ``z``, ``bound`` (the efficacy
    boundary on the z scale, signed toward the target; NaN where not tested), ``crossed``
    (``"efficacy"``, ``"harm"`` or ``""``), and per analysis ``adjustment``, ``required_information``
    (adjusted) and ``model``.  Each group gives what :func:`monitor` gives for its rows.
    """
    import pandas as pd

    from .batch import group_rows
    from .core import _Control, _fit, _Segments

    by = [by] if isinstance(by, str) else list(by or [])
    model = monitoring_model(heterogeneity, estimator)
    _check_overrun(overrun)
    keys, k, order = group_rows(frame, by)
    y = frame[yi].to_numpy(float)[order]
    v = frame[vi].to_numpy(float)[order]
    lk = frame[look].to_numpy()[order]
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v)) and np.all(v > 0)):
        raise ValueError(f"{yi}/{vi} must be finite with {vi} > 0")
    seg = _Segments(k)
    ctl = _Control()
    # ---- the cumulative subsets: analysis g, look j pools the rows of g with look <= its j-th value
    sub_rows, sub_k, owner, look_val = [], [], [], []
    for g in range(seg.G):
        rows = np.arange(seg.starts[g], seg.starts[g] + k[g])
        vals = lk[rows]
        for val in sorted(set(vals.tolist())):
            sel = rows[vals <= val]
            sub_rows.append(sel)
            sub_k.append(sel.size)
            owner.append(g)
            look_val.append(val)
    idx = np.concatenate(sub_rows)
    cum = _Segments(np.array(sub_k))
    out = _fit(cum, y[idx], v[idx], method=model, test="z", level=0.95, pi="default", ctl=ctl)
    z = out["estimate"] / out["se"]
    info = cum.sum(1.0 / v[idx])
    owner = np.array(owner)
    # ---- heterogeneity adjustment from all the studies of each analysis
    if heterogeneity in ("D2", "I2"):
        fe = _fit(seg, y, v, method="FE", test="z", level=0.95, pi="default", ctl=ctl)
        re = _fit(seg, y, v, method=model, test="z", level=0.95, pi="default", ctl=ctl)
        if heterogeneity == "D2":
            adj = np.where(k > 1, np.maximum(0.0, 1.0 - fe["se"] ** 2 / re["se"] ** 2), 0.0)
        else:
            adj = np.where(k > 1, re["i2"] / 100.0, 0.0)
    elif heterogeneity in (None, "none"):
        adj = np.zeros(seg.G)
    else:
        adj = np.full(seg.G, float(heterogeneity))
    ris = required_information(target, alpha=alpha, power=power, sided=sided) / (1.0 - adj)
    frac = info / ris[owner]
    # ---- boundaries, once per distinct set of fractions
    bound = np.empty(frac.size)
    cache: dict = {}
    first = np.searchsorted(owner, np.arange(seg.G + 1))  # owner is sorted: looks of g are first[g]:first[g+1]
    for g in range(seg.G):
        pos = np.arange(first[g], first[g + 1])
        bound[pos] = _look_boundaries(frac[pos], alpha=alpha, sided=sided, type_of_design=type_of_design,
                                      beta=1.0 - power, futility="none", binding_futility=False, overrun=overrun,
                                      characteristics=False, cache=cache)[0]
    direction = 1.0 if target > 0 else -1.0
    zd = z * direction
    with np.errstate(invalid="ignore"):
        crossed = np.where(zd >= bound, "efficacy", np.where((sided == 2) & (-zd >= bound), "harm", ""))
    res = keys.iloc[owner].reset_index(drop=True)
    return pd.concat([res, pd.DataFrame({
        "look": look_val, "k": cum.k, "information": info, "fraction": frac, "estimate": out["estimate"],
        "z": z, "bound": direction * bound, "crossed": crossed, "adjustment": adj[owner],
        "required_information": ris[owner], "model": model,
    })], axis=1)
