"""Core random-/fixed-effects estimator (R metafor ``rma.uni`` for an intercept-only model).

Everything here is pure numpy/scipy: arrays in, result objects out.

One vectorised engine (:func:`_fit`) serves both :func:`pool` (one analysis)
and :func:`livemeta.pooling.pool_many` (thousands at once): the studies of all
analyses sit in one flat array, sorted by analysis, and every per-analysis sum
is a segment sum (``np.add.reduceat``).  The iterative estimators run their
iterations for all analyses at once with an "active" mask.

Algorithms follow metafor 3.8 step by step so that the iterative estimators
stop where metafor stops (metafor's results are only as precise as its
convergence criteria, so matching it to 1e-6 means replaying them):

* REML, ML, EB: Fisher scoring from the Hedges (HE) estimate truncated at 0,
  ``threshold`` 1e-5 on the change of tau2, ``maxiter`` 100, step halving to
  keep tau2 >= 0, ``stepadj`` 1; for ML/REML metafor's "ll0check" (if the
  log-likelihood at tau2 = 0 beats the one at the solution by more than
  ``tol``, tau2 is set to 0).  Note: metafor 3.8 fits EB by Fisher scoring on
  the generalised Q statistic, not with ``uniroot()``.
* PM and the Q-profile CI: Brent's root finder as in R's ``uniroot()``
  (``zeroin``), ``tol = .Machine$double.eps^0.25``, on ``[0, tau2.max]`` with
  ``tau2.max = max(100, 10 * mad(yi)^2)`` for PM and
  ``max(100, 10 * tau2)`` for ``confint()``.

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

from ._validate import first_index
from .effects import transf_ilogit
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

METHODS: tuple[str, ...] = ("FE", "DL", "REML", "ML", "PM", "EB", "SJ", "HE", "HS")
TESTS: tuple[str, ...] = ("z", "knha")
PI_TYPES: tuple[str, ...] = ("default", "normal", "t(k-1)", "t(k-2)")
_METHOD_ALIASES = {"EE": "FE", "CE": "FE"}
_EPS = float(np.finfo(float).eps)
_R_TOL = 2.0**-13  # .Machine$double.eps^0.25 in R
_LOG_2PI = math.log(2.0 * math.pi)

# message codes (one per analysis in the vectorised engine)
_MSG_OK = 0
_MSG_FS = 1
_MSG_TAU2MAX = 2
_MSG_ZEROIN = 3
_MSG_NONFINITE = 4


@dataclass(frozen=True)
class _Control:
    """Iteration controls, named as metafor's ``rma(control=list(...))``."""

    threshold: float = 1e-5
    maxiter: int = 100
    tol: float = _R_TOL
    stepadj: float = 1.0
    tau2_max: float | None = None
    ll0check: bool = True

    @classmethod
    def make(cls, control: Mapping[str, Any] | None) -> _Control:
        if control is None:
            return cls()
        if isinstance(control, _Control):
            return control
        known = {"threshold", "maxiter", "tol", "stepadj", "tau2_max", "ll0check"}
        kwargs = {}
        for key, val in control.items():
            name = str(key).replace(".", "_")
            if name not in known:
                raise ValueError(f"unknown control option {key!r}; expected one of {sorted(known)}")
            kwargs[name] = val
        ctl = cls(**kwargs)
        if not (ctl.maxiter >= 1 and int(ctl.maxiter) == ctl.maxiter):
            raise ValueError(f"control maxiter must be a positive integer, got {ctl.maxiter!r}")
        if not (ctl.threshold > 0 and ctl.tol > 0 and ctl.stepadj > 0):
            raise ValueError("control threshold, tol and stepadj must be > 0")
        if ctl.tau2_max is not None and not (ctl.tau2_max > 0 and math.isfinite(ctl.tau2_max)):
            raise ValueError(f"control tau2_max must be finite and > 0, got {ctl.tau2_max!r}")
        return ctl


# --------------------------------------------------------------------- checks
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
        i = first_index(~np.isfinite(a))
        if i is not None:
            raise ValueError(f"{name}[{i}] = {float(a[i])!r} is not finite")
    i = first_index(v <= 0)
    if i is not None:
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
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    return lev


def _check_pi(pi: str) -> str:
    p = str(pi)
    if p not in PI_TYPES:
        raise ValueError(f"unknown pi {pi!r}; expected one of {PI_TYPES}")
    return p


# ---------------------------------------------------------- segment machinery
class _Segments:
    """Studies of G analyses stored contiguously; per-analysis sums by reduceat."""

    __slots__ = ("k", "kf", "G", "starts", "gid")

    def __init__(self, k: np.ndarray):
        self.k = np.asarray(k, dtype=np.int64)
        self.G = int(self.k.shape[0])
        self.kf = self.k.astype(float)
        self.starts = np.zeros(self.G, dtype=np.intp)
        if self.G > 1:
            np.cumsum(self.k[:-1], out=self.starts[1:])
        self.gid = np.repeat(np.arange(self.G), self.k)

    def sum(self, x: np.ndarray) -> np.ndarray:
        return np.add.reduceat(x, self.starts)

    def rep(self, g: np.ndarray) -> np.ndarray:
        return g[self.gid]

    def median(self, x: np.ndarray) -> np.ndarray:
        """Per-analysis median, as R's ``median()`` (mean of the two middle values)."""
        n = x.shape[0]
        kmax = int(self.k.max())
        lo = (self.k - 1) // 2
        hi = self.k // 2
        if self.G * kmax <= 4 * n + 64:  # padded 2-D sort: fast when k varies little
            pad = np.full((self.G, kmax), np.inf)
            pad[self.gid, np.arange(n) - self.starts[self.gid]] = x
            pad.sort(axis=1)
            rows = np.arange(self.G)
            return (pad[rows, lo] + pad[rows, hi]) / 2.0
        xs = x[np.lexsort((x, self.gid))]
        return (xs[self.starts + lo] + xs[self.starts + hi]) / 2.0


def _wq(seg: _Segments, y: np.ndarray, v: np.ndarray, tau2: np.ndarray):
    """Generalised Q at tau2 (per analysis) plus the pieces used to build it."""
    w = 1.0 / (v + seg.rep(tau2))
    W = seg.sum(w)
    mu = seg.sum(w * y) / W
    r = y - seg.rep(mu)
    return seg.sum(w * r * r), w, W, r


def _loo_sum(seg: _Segments, x: np.ndarray) -> np.ndarray:
    """Per row, the sum of the *other* rows of its analysis (x >= 0), without cancellation.

    ``S - x_i`` is accurate unless ``x_i`` dominates ``S``; that can only be
    the largest element of the analysis, whose leave-one-out sum is summed
    directly.  Needed when weights span many orders of magnitude (vi of 1e-12
    next to 1e6), where ``W - w_i`` would be pure rounding error.
    """
    n = x.shape[0]
    total = seg.sum(x)
    mx = np.maximum.reduceat(x, seg.starts)
    pos = np.arange(n)
    first = np.minimum.reduceat(np.where(x == seg.rep(mx), pos, n), seg.starts)
    first = np.where(first < n, first, seg.starts)  # all-nan analysis (failed fit)
    is_max = np.zeros(n, dtype=bool)
    is_max[first] = True
    rest = seg.sum(np.where(is_max, 0.0, x))
    return np.where(is_max, seg.rep(rest), seg.rep(total) - x)


def _tr_p(seg: _Segments, w: np.ndarray, W: np.ndarray, w_loo: np.ndarray) -> np.ndarray:
    """tr(P) = sum_i w_i (W - w_i) / W for P = diag(w) - w w'/W."""
    return seg.sum(w * w_loo) / W


def _sum_p2(seg: _Segments, w: np.ndarray, W: np.ndarray, w_loo: np.ndarray, a=None, b=None) -> np.ndarray:
    """sum_ij P_ij^2 a_i b_j for P = diag(w) - w w'/W (a, b default to 1), stably.

    Diagonal: P_ii = w_i (W - w_i) / W; off-diagonal: (w_i w_j / W)^2, summed
    as sum_i a_i w_i^2 * sum_{j != i} b_j w_j^2.
    """
    aa = 1.0 if a is None else a
    bb = 1.0 if b is None else b
    p_ii = w * w_loo / seg.rep(W)
    diag = seg.sum(aa * bb * p_ii * p_ii)
    w2 = w * w
    xb = bb * w2 if b is not None else w2
    off = seg.sum(aa * w2 * _loo_sum(seg, xb))
    return diag + off / (W * W)


class _Subset:
    """Rows of a subset of analyses (cached while the subset stays the same).

    The iterative estimators shrink their working set as analyses converge;
    segment sums do not depend on the other segments, so results are
    bit-for-bit those of the full set.
    """

    __slots__ = ("seg", "arrays", "_n", "_sub", "_rows")

    def __init__(self, seg: _Segments, *arrays: np.ndarray):
        self.seg = seg
        self.arrays = arrays
        self._n = -1
        self._sub = None
        self._rows = ()

    def get(self, idx: np.ndarray):
        """Segments and row arrays for the analyses ``idx`` (sorted; only ever shrinks)."""
        if idx.size != self._n:
            if idx.size == self.seg.G:
                self._sub, self._rows = self.seg, self.arrays
            else:
                keep = np.zeros(self.seg.G, dtype=bool)
                keep[idx] = True
                sel = keep[self.seg.gid]
                self._sub = _Segments(self.seg.k[idx])
                self._rows = tuple(a[sel] for a in self.arrays)
            self._n = idx.size
        return self._sub, self._rows


def _zeroin(f, ax, bx, fa, fb, tol: float, maxit: int, todo: np.ndarray):
    """Brent's root finder, vectorised over analyses, step for step as R's ``uniroot()``.

    R's ``uniroot()`` calls the C routine ``R_zeroin2`` (Brent 1973; Forsythe,
    Malcolm & Moler 1977): bisection combined with linear / inverse quadratic
    interpolation, stopping when half the bracket is below
    ``2 * eps * |b| + tol / 2``.  Reproducing its iterates (rather than solving
    to machine precision) is what makes PM and Q-profile bounds agree with
    metafor well below its ``tol``.

    ``f(x, idx)`` returns f at ``x`` for the analyses ``idx`` (sorted
    original indices of the analyses still searching).  Returns
    ``(root, n_iter, ok)`` over all analyses; ``ok`` is False where ``maxit``
    was reached (R then warns "_NOT_ converged" and returns the last iterate).
    """
    G = ax.shape[0]
    root = np.full(G, np.nan)
    n_iter = np.zeros(G, dtype=np.int64)
    ok = np.zeros(G, dtype=bool)
    idx = np.flatnonzero(todo)
    a = np.asarray(ax, dtype=float)[idx]
    b = np.asarray(bx, dtype=float)[idx]
    fa = np.asarray(fa, dtype=float)[idx]
    fb = np.asarray(fb, dtype=float)[idx]

    at_a = fa == 0.0
    at_b = ~at_a & (fb == 0.0)
    root[idx[at_a]] = a[at_a]
    root[idx[at_b]] = b[at_b]
    ok[idx[at_a | at_b]] = True
    keep = ~(at_a | at_b)
    idx, a, b, fa, fb = idx[keep], a[keep], b[keep], fa[keep], fb[keep]
    c = a.copy()
    fc = fa.copy()

    it = 0
    with np.errstate(all="ignore"):
        while idx.size and it <= maxit:
            prev_step = b - a
            swap = np.abs(fc) < np.abs(fb)
            if swap.any():  # a = b; b = c; c = a (the new a, i.e. the old b); same for f
                a = np.where(swap, b, a)
                b = np.where(swap, c, b)
                c = np.where(swap, a, c)
                fa = np.where(swap, fb, fa)
                fb = np.where(swap, fc, fb)
                fc = np.where(swap, fa, fc)

            tol_act = 2.0 * _EPS * np.abs(b) + tol / 2.0
            new_step = (c - b) / 2.0
            done = (np.abs(new_step) <= tol_act) | (fb == 0.0)
            if done.any():
                root[idx[done]] = b[done]
                n_iter[idx[done]] = it
                ok[idx[done]] = True
                keep = ~done
                idx, a, b, c, fa, fb, fc = idx[keep], a[keep], b[keep], c[keep], fa[keep], fb[keep], fc[keep]
                prev_step, tol_act, new_step = prev_step[keep], tol_act[keep], new_step[keep]
                if not idx.size:
                    break

            interp = (np.abs(prev_step) >= tol_act) & (np.abs(fa) > np.abs(fb))
            cb = c - b
            linear = a == c
            t1_lin = fb / fa
            p_lin = cb * t1_lin
            q_lin = 1.0 - t1_lin
            qq = fa / fc
            t1 = fb / fc
            t2 = fb / fa
            p_quad = t2 * (cb * qq * (qq - t1) - (b - a) * (t1 - 1.0))
            q_quad = (qq - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            p = np.where(linear, p_lin, p_quad)
            q = np.where(linear, q_lin, q_quad)
            pos = p > 0.0
            q = np.where(pos, -q, q)
            p = np.where(pos, p, -p)
            accept = (
                interp
                & (p < 0.75 * cb * q - np.abs(tol_act * q) / 2.0)
                & (p < np.abs(prev_step * q / 2.0))
            )
            new_step = np.where(accept, p / q, new_step)
            small = np.abs(new_step) < tol_act
            new_step = np.where(small, np.where(new_step > 0.0, tol_act, -tol_act), new_step)

            a, fa = b, fb
            b = b + new_step
            fb = f(b, idx)
            flip = ((fb > 0.0) & (fc > 0.0)) | ((fb < 0.0) & (fc < 0.0))
            c = np.where(flip, a, c)
            fc = np.where(flip, fa, fc)
            it += 1
    # maxit exhausted: R returns the current b with a warning
    root[idx] = b
    n_iter[idx] = maxit
    return root, n_iter, ok


def _fisher_scoring(seg, ymc, v, tau2_start, method, ctl: _Control, todo):
    """metafor's Fisher scoring for ML / REML / EB, vectorised over analyses.

    Analyses leave the working set as soon as they converge or fail.
    """
    G = seg.G
    tau2_out = tau2_start.copy()
    conv = np.zeros(G, dtype=bool)
    n_iter = np.zeros(G, dtype=np.int64)
    idx = np.flatnonzero(todo)
    work = _Subset(seg, ymc, v)
    t = tau2_start[idx].copy()
    it = 0
    with np.errstate(all="ignore"):
        while idx.size:
            it += 1
            sub, (y_s, v_s) = work.get(idx)
            kf = sub.kf
            q, w, W, r = _wq(sub, y_s, v_s, t)
            if method == "EB":
                adj = (q * kf / (kf - 1.0) - kf) / W
            else:
                pr = w * r  # P %*% Y
                ypp = sub.sum(pr * pr)  # Y'PPY
                if method == "ML":
                    adj = (ypp - W) / sub.sum(w * w)
                else:  # REML
                    w_loo = _loo_sum(sub, w)
                    adj = (ypp - _tr_p(sub, w, W, w_loo)) / _sum_p2(sub, w, W, w_loo)
            adj = adj * ctl.stepadj
            adj = np.where(np.isnan(adj), 0.0, adj)
            # step halving (metafor: while (tau2 + adj < tau2.min) adj <- adj/2);
            # from tau2 == 0 it ends with adj == -0, i.e. tau2 stays 0
            neg = t + adj < 0.0
            if neg.any():
                adj = np.where(neg & (t == 0.0), 0.0, adj)
                halve = neg & (t > 0.0)
                while halve.any():
                    adj = np.where(halve, adj / 2.0, adj)
                    halve = halve & (t + adj < 0.0)
            new = t + adj
            change = np.abs(t - new)
            t = new
            fail = (it > ctl.maxiter) | ~np.isfinite(new)
            done = ~fail & (change <= ctl.threshold)
            tau2_out[idx] = t
            n_iter[idx] = it
            fin = done | fail
            if fin.any():
                conv[idx[done]] = True
                keep = ~fin
                idx, t = idx[keep], t[keep]
    return tau2_out, conv, n_iter


def _loglik(seg, ymc, v, tau2, reml: bool):
    q, w, W, r = _wq(seg, ymc, v, tau2)
    ll = -0.5 * (seg.kf - (1.0 if reml else 0.0)) * _LOG_2PI
    ll = ll - 0.5 * seg.sum(np.log(v + seg.rep(tau2))) - 0.5 * q
    if reml:
        ll = ll - 0.5 * np.log(W)
    return ll


def _tau2_max_pm(seg, y, ctl: _Control):
    if ctl.tau2_max is not None:
        return np.full(seg.G, float(ctl.tau2_max))
    center = seg.median(y)
    mad = 1.4826 * seg.median(np.abs(y - seg.rep(center)))
    return np.maximum(100.0, 10.0 * (mad * mad))


# ----------------------------------------------------------------- the engine
def _fit(seg: _Segments, y, v, *, method: str, test: str, level: float, pi: str, ctl: _Control):
    """Fit every analysis of ``seg``; returns a dict of per-analysis arrays."""
    G = seg.G
    k = seg.k
    kf = seg.kf
    multi = k > 1
    alpha = 1.0 - level
    with np.errstate(all="ignore"):
        # ---------------------------------------- fixed-effect (inverse variance) pieces
        zeros = np.zeros(G)
        q_fe, w0, W0, r0 = _wq(seg, y, v, zeros)
        w0_loo = _loo_sum(seg, w0)
        tr_p0 = _tr_p(seg, w0, W0, w0_loo)
        q_e = np.where(multi, np.maximum(0.0, q_fe), 0.0)
        q_df = k - 1
        q_p = np.where(multi, special.chdtrc(np.maximum(q_df, 1), q_e), 1.0)
        vt = np.where(multi, (kf - 1.0) / tr_p0, 0.0)  # typical within-study variance
        i2_q = np.where(multi & (q_e > 0), np.maximum(0.0, 100.0 * (q_e - q_df) / q_e), 0.0)

        ybar = seg.sum(y) / kf
        ymc = y - seg.rep(ybar)  # metafor works with the mean-centred outcomes
        ss = seg.sum(ymc * ymc)
        sumv = seg.sum(v)
        tau2_he = (ss - sumv * (1.0 - 1.0 / kf)) / (kf - 1.0)

        # ---------------------------------------- tau2
        tau2 = np.zeros(G)
        conv = np.ones(G, dtype=bool)
        n_iter = np.zeros(G, dtype=np.int64)
        code = np.full(G, _MSG_OK, dtype=np.int64)
        notes: list[list[str]] = [[] for _ in range(G)]
        tau2_se = np.full(G, np.nan)
        sj_t0 = None

        if method == "FE":
            pass
        elif method == "HE":
            tau2 = tau2_he
        elif method == "DL":
            tau2 = (q_fe - (kf - 1.0)) / tr_p0
        elif method == "HS":
            tau2 = (q_fe - kf) / W0
        elif method == "SJ":
            sj_t0 = ss / kf  # var(yi) * (k - 1) / k
            q_sj, _, _, _ = _wq(seg, ymc, v, sj_t0)
            tau2 = sj_t0 * q_sj / (kf - 1.0)
        elif method == "PM":
            target = kf - 1.0
            f0 = _wq(seg, ymc, v, zeros)[0] - target
            tmax = _tau2_max_pm(seg, y, ctl)
            fmax = _wq(seg, ymc, v, tmax)[0] - target
            at_zero = multi & (f0 < 0.0)
            too_low = multi & ~at_zero & (fmax > 0.0)
            solve = multi & ~at_zero & ~too_low

            work = _Subset(seg, ymc, v)

            def f(t, idx):
                sub, (y_s, v_s) = work.get(idx)
                return _wq(sub, y_s, v_s, t)[0] - target[idx]

            root, it_z, ok = _zeroin(f, zeros, tmax, f0, fmax, ctl.tol, ctl.maxiter, solve)
            tau2 = np.where(solve, root, 0.0)
            n_iter = np.where(solve, it_z, 0)
            conv = ~too_low & ~(solve & ~ok)
            code[too_low] = _MSG_TAU2MAX
            code[solve & ~ok] = _MSG_ZEROIN
            for g in np.flatnonzero(too_low):
                notes[g].append(
                    f"PM: Q(tau2_max = {tmax[g]:.6g}) is still above k - 1; metafor stops with "
                    "\"Value of 'tau2.max' too low\" (increase control tau2_max or use another method)"
                )
            for g in np.flatnonzero(solve & ~ok):
                notes[g].append(f"PM: root finder did not converge in {ctl.maxiter} iterations")
        else:  # REML, ML, EB
            start = np.maximum(0.0, np.where(np.isnan(tau2_he), 0.0, tau2_he))
            tau2, fs_conv, n_iter = _fisher_scoring(seg, ymc, v, start, method, ctl, multi)
            conv = fs_conv | ~multi
            bad = multi & ~fs_conv
            code[bad] = _MSG_FS
            for g in np.flatnonzero(bad):
                notes[g].append(
                    f"{method}: Fisher scoring did not converge in {ctl.maxiter} iterations "
                    "(metafor stops with an error; try control stepadj < 1 and a larger maxiter)"
                )
            if method in ("ML", "REML") and ctl.ll0check:
                chk = multi & fs_conv & (tau2 > ctl.threshold)
                if chk.any():
                    reml = method == "REML"
                    ll0 = _loglik(seg, ymc, v, zeros, reml)
                    ll1 = _loglik(seg, ymc, v, np.where(chk, tau2, 0.0), reml)
                    stuck = chk & (ll0 - ll1 > ctl.tol)
                    tau2 = np.where(stuck, 0.0, tau2)
                    for g in np.flatnonzero(stuck):
                        notes[g].append(
                            f"{method}: Fisher scoring may have got stuck at a local maximum; "
                            "tau2 set to 0 (as metafor does, with a warning)"
                        )

        tau2 = np.where(multi, np.maximum(0.0, tau2), 0.0)
        nonfinite = conv & ~np.isfinite(tau2)
        if nonfinite.any():
            conv = conv & ~nonfinite
            code[nonfinite] = _MSG_NONFINITE
            for g in np.flatnonzero(nonfinite):
                notes[g].append(f"{method}: tau2 estimate is not finite")
        tau2 = np.where(conv, tau2, np.nan)

        # ---------------------------------------- se of tau2 (metafor's res$se.tau2)
        tp = np.maximum(tau2, 0.0)
        km1 = kf - 1.0
        if method in ("DL", "HS"):
            num = 2.0 * km1 + 4.0 * tp * tr_p0 + 2.0 * tp * tp * _sum_p2(seg, w0, W0, w0_loo)
            den = tr_p0 if method == "DL" else W0
            tau2_se = np.sqrt(num / (den * den))
        elif method == "HE":
            sum_pvpv = seg.sum(v * v) * (1.0 - 2.0 / kf) + sumv * sumv / (kf * kf)
            tr_pv = sumv * (1.0 - 1.0 / kf)
            tau2_se = np.sqrt((2.0 * sum_pvpv + 4.0 * tp * tr_pv + 2.0 * tp * tp * km1) / (km1 * km1))
        elif method == "SJ":
            w_sj = 1.0 / (v + seg.rep(sj_t0))
            W_sj = seg.sum(w_sj)
            loo_sj = _loo_sum(seg, w_sj)
            a_ = _sum_p2(seg, w_sj, W_sj, loo_sj, v, v)
            b_ = _sum_p2(seg, w_sj, W_sj, loo_sj, None, v)
            c_ = _sum_p2(seg, w_sj, W_sj, loo_sj)
            tau2_se = np.sqrt(sj_t0 * sj_t0 / (km1 * km1) * (2.0 * a_ + 4.0 * tp * b_ + 2.0 * tp * tp * c_))
        elif method in ("ML", "REML", "EB", "PM"):
            w_t = 1.0 / (v + seg.rep(tp))
            W_t = seg.sum(w_t)
            if method == "ML":
                tau2_se = np.sqrt(2.0 / seg.sum(w_t * w_t))
            elif method == "REML":
                tau2_se = np.sqrt(2.0 / _sum_p2(seg, w_t, W_t, _loo_sum(seg, w_t)))
            else:
                tau2_se = np.sqrt(2.0 * kf * kf / km1 / (W_t * W_t))
        tau2_se = np.where(multi & conv, tau2_se, np.nan)

        # ---------------------------------------- pooled estimate
        w = 1.0 / (v + seg.rep(tau2))
        W = seg.sum(w)
        est = seg.sum(w * y) / W
        vb = 1.0 / W
        knha = (test == "knha") & multi
        if test == "knha":
            res = y - seg.rep(est)
            rss = seg.sum(w * res * res)
            s2w = np.where(rss <= _EPS, 0.0, rss / km1)
            vb = np.where(knha, s2w * vb, vb)
        se = np.sqrt(vb)
        stat = est / se
        df = np.where(knha, km1, np.nan)
        df_safe = np.where(knha, km1, 1.0)
        p_z = 2.0 * special.ndtr(-np.abs(stat))
        p_t = 2.0 * special.stdtr(df_safe, -np.abs(stat))
        pval = np.where(knha, p_t, p_z)
        crit_z = -special.ndtri(alpha / 2.0)
        crit_t = -special.stdtrit(df_safe, alpha / 2.0)
        crit = np.where(knha, crit_t, crit_z)
        ci_low = est - crit * se
        ci_high = est + crit * se

        # ---------------------------------------- I2 / H2 (metafor, i2def = "1")
        if method == "FE":
            i2 = np.where(multi, np.maximum(0.0, 100.0 * (q_e - q_df) / q_e), 0.0)
            i2 = np.where(np.isnan(i2) & multi, 0.0, i2)
            h2 = np.where(multi, q_e / np.maximum(q_df, 1), 1.0)
        else:
            i2 = np.where(multi, 100.0 * tau2 / (vt + tau2), 0.0)
            h2 = np.where(multi, tau2 / vt + 1.0, 1.0)
        i2 = np.where(conv, i2, np.nan)
        h2 = np.where(conv, h2, np.nan)

        # ---------------------------------------- prediction interval (metafor predict())
        if method == "FE":
            pi_low, pi_high = ci_low, ci_high
            pi_dist = np.where(knha, "t(k-1)", "normal")
        else:
            spred = np.sqrt(vb + tau2)
            if pi == "default":
                pcrit = crit
                pi_dist = np.where(knha, "t(k-1)", "normal")
            elif pi == "normal":
                pcrit = np.full(G, crit_z)
                pi_dist = np.full(G, "normal")
            elif pi == "t(k-1)":
                pcrit = np.where(multi, -special.stdtrit(np.maximum(km1, 1.0), alpha / 2.0), np.nan)
                pi_dist = np.full(G, "t(k-1)")
            else:  # t(k-2): Higgins, Thompson & Spiegelhalter (2009)
                pcrit = np.where(k >= 3, -special.stdtrit(np.maximum(kf - 2.0, 1.0), alpha / 2.0), np.nan)
                pi_dist = np.full(G, "t(k-2)")
            pi_low = est - pcrit * spred
            pi_high = est + pcrit * spred

        weights = 100.0 * w / seg.rep(W)

    test_used = np.where(multi, test, "z")
    if method == "FE" and test == "knha":
        for g in np.flatnonzero(multi):
            notes[g].append("Knapp-Hartung is not meant for FE models (metafor warns the same)")
    for g in np.flatnonzero(~multi & (test == "knha")):
        notes[g].append("k = 1: test='knha' is not possible, used test='z' (as metafor does)")
    messages = ["; ".join(n) for n in notes]
    return {
        "test": test_used,
        "k": k,
        "estimate": est,
        "se": se,
        "stat": stat,
        "df": df,
        "p": pval,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "tau2": tau2,
        "tau2_se": tau2_se,
        "tau": np.sqrt(tau2),
        "i2": i2,
        "h2": h2,
        "i2_q": i2_q,
        "q": q_e,
        "q_df": q_df,
        "q_p": q_p,
        "pi_low": pi_low,
        "pi_high": pi_high,
        "pi_dist": pi_dist,
        "converged": conv,
        "n_iter": n_iter,
        "message": messages,
        "code": code,
        "weights": weights,
    }


# ------------------------------------------------------------------ public API
def pool(
    yi,
    vi,
    *,
    method: str = "FE",
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
        tau2 estimator, as ``rma(method=)``.  ``"EE"``/``"CE"`` are accepted
        as aliases of ``"FE"``.
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
    seg = _Segments(np.array([y.shape[0]]))
    out = _fit(seg, y, v, method=method, test=test, level=level, pi=pi, ctl=ctl)
    return _result_at(out, 0, method=method, level=level, scale=scale, weights=out["weights"])


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
        weights=tuple(float(x) for x in weights),
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
    opts = {"tol": _R_TOL, "maxiter": 1000, "tau2_max": None}
    for key, val in (control or {}).items():
        name = str(key).replace(".", "_")
        if name not in opts:
            raise ValueError(f"unknown control option {key!r}; expected one of {sorted(opts)}")
        opts[name] = val
    fit = pool(y, v, method=method, level=level)
    k = y.shape[0]
    alpha = 1.0 - level
    nan = float("nan")
    if not fit.converged:
        return Tau2CI(method, level, k, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan,
                      "", "", False, False, False, nan, False, fit.message)

    seg = _Segments(np.array([k]))
    tau2_min = min(0.0, fit.tau2)
    tau2_max = float(opts["tau2_max"]) if opts["tau2_max"] is not None else max(100.0, fit.tau2 * 10.0, tau2_min * 10.0)
    df = k - 1.0
    crit_u = 2.0 * special.gammainccinv(df / 2.0, alpha / 2.0)  # qchisq(alpha/2, df, lower=FALSE)
    crit_l = 2.0 * special.gammaincinv(df / 2.0, alpha / 2.0)  # qchisq(alpha/2, df)

    def qfun(t):
        return _wq(seg, y, v, np.asarray(t, dtype=float))[0]

    q_max = float(qfun([tau2_max])[0])
    q_min = float(qfun([tau2_min])[0])
    lb = ub = nan
    lb_sign = ub_sign = ""
    ci_null = lb_trunc = ub_trunc = False
    lb_ok = ub_ok = False
    msgs = []

    def solve(objective: float) -> tuple[float, bool]:
        def f(t, idx):
            return qfun(t) - objective

        todo = np.array([True])
        root, _, ok = _zeroin(
            f, np.array([tau2_min]), np.array([tau2_max]), np.array([q_min - objective]),
            np.array([q_max - objective]), float(opts["tol"]), int(opts["maxiter"]), todo,
        )
        return float(root[0]), bool(ok[0])

    if q_min < crit_l:
        lb = ub = tau2_min
        lb_sign = ub_sign = "<"
        lb_ok = ub_ok = True
        ub_trunc = lb_trunc = True
        if tau2_min <= 0:
            ci_null = True
    else:
        if q_max > crit_l:
            ub, ub_sign, ub_ok, ub_trunc = tau2_max, ">", True, True
        else:
            ub, ub_ok = solve(crit_l)
    if q_max > crit_u:
        lb = ub = tau2_max
        lb_sign = ub_sign = ">"
        lb_ok = ub_ok = True
        lb_trunc = ub_trunc = True
    else:
        if q_min < crit_u:
            lb, lb_ok, lb_trunc = tau2_min, True, True
            if tau2_min > 0:
                lb_sign = "<"
        else:
            lb, lb_ok = solve(crit_u)
    if not lb_ok:
        msgs.append("root finder did not converge for the lower bound")
    if not ub_ok:
        msgs.append("root finder did not converge for the upper bound")

    seg_w = 1.0 / v
    W0 = float(seg.sum(seg_w)[0])
    vt = (k - 1.0) / (W0 - float(seg.sum(seg_w * seg_w)[0]) / W0)

    def _sqrt(x):
        return math.sqrt(x) if x >= 0 else nan

    return Tau2CI(
        method=method,
        level=level,
        k=k,
        tau2=fit.tau2,
        tau2_low=lb,
        tau2_high=ub,
        tau=_sqrt(fit.tau2),
        tau_low=_sqrt(lb),
        tau_high=_sqrt(ub),
        i2=fit.i2,
        i2_low=100.0 * lb / (vt + lb),
        i2_high=100.0 * ub / (vt + ub),
        h2=fit.h2,
        h2_low=lb / vt + 1.0,
        h2_high=ub / vt + 1.0,
        lb_sign=lb_sign,
        ub_sign=ub_sign,
        ci_null=ci_null,
        tau2_low_truncated=lb_trunc,
        tau2_high_truncated=ub_trunc,
        tau2_max=tau2_max,
        converged=lb_ok and ub_ok,
        message="; ".join(msgs),
    )


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
