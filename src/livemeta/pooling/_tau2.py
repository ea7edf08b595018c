"""The tau^2 engine: metafor's heterogeneity estimators for every model (private).

One implementation of ``rma.uni``'s between-study variance estimators (FE,
HE, HS, DL, SJ, PM, ML, REML, EB), with metafor 3.8's control settings,
starting values, stopping rules, ``ll0check`` and ``se.tau2``.  Every model of
the pooling engine estimates tau^2 here: the intercept-only model of
:func:`~livemeta.pooling.pool` / :func:`~livemeta.pooling.pool_many`,
meta-regression (:mod:`~livemeta.pooling.metareg`), subgroups with a common
tau^2, Egger's ``regtest``, trim-and-fill and the influence diagnostics.

The estimators need a handful of quantities of the projection
``P = W - W X (X'WX)^-1 X'W`` for a weight vector ``w`` (``W = diag(w)``):
the weighted residual sum of squares ``y'Py``, ``y'PPy``, ``tr(P)``,
``tr(P Da P Db)`` and ``log|X'WX|``.  Two "models" provide them, both
vectorised over G analyses whose studies sit contiguously in flat arrays
(segments, per-analysis sums by ``np.add.reduceat``):

* :class:`_InterceptModel` (``X = 1``): closed forms with cancellation-free
  leave-one-out sums (weights may span many orders of magnitude);
* :class:`_DesignModel` (any full-rank ``X``, the same number of columns p
  in every analysis): batched p x p algebra per analysis.

Iterative estimators follow metafor step by step so that they stop where
metafor stops:

* REML, ML, EB: Fisher scoring from the Hedges (HE) estimate truncated at 0,
  ``threshold`` 1e-5 on the change of tau2, ``maxiter`` 100, step halving to
  keep tau2 >= 0, ``stepadj`` 1; for ML/REML the "ll0check" (if the
  log-likelihood at tau2 = 0 beats the one at the solution by more than
  ``tol``, tau2 is set to 0).  metafor 3.8 fits EB by Fisher scoring on the
  generalised Q statistic.
* PM: Brent's root finder as R's ``uniroot()`` (``zeroin``),
  ``tol = .Machine$double.eps^0.25``, on ``[0, tau2.max]`` with
  ``tau2.max = max(100, 10 * mad(yi)^2)``.

As in metafor, the estimators work with the mean-centred outcomes
(``ymci``).  A fit that metafor would stop with an error does not raise: the
analysis gets ``converged=False``, a message code and ``nan`` tau2.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["estimate_tau2", "Tau2Estimate", "METHODS"]

METHODS: tuple[str, ...] = ("FE", "DL", "REML", "ML", "PM", "EB", "SJ", "HE", "HS")
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
            return _DEFAULT_CONTROL
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


_DEFAULT_CONTROL = _Control()  # frozen: one instance serves every call without controls



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

# ------------------------------------------------------------------ the two models
class _InterceptModel:
    """``X = 1`` for every analysis: closed forms, stable leave-one-out sums."""

    p = 1

    def __init__(self, seg: _Segments, v: np.ndarray):
        self.seg = seg
        self.v = v

    def select(self, sel: np.ndarray, k: np.ndarray) -> _InterceptModel:
        return _InterceptModel(_Segments(k), self.v[sel])

    # state at weights w: (w, W, leave-one-out sums of w)
    def state(self, w: np.ndarray):
        return _IState(w, self.seg.sum(w))

    def resid(self, st, y: np.ndarray) -> np.ndarray:
        seg = self.seg
        return y - seg.rep(seg.sum(st.w * y) / st.W)

    def rss(self, st, y: np.ndarray) -> np.ndarray:
        r = self.resid(st, y)
        return self.seg.sum(st.w * r * r)

    def loo(self, st) -> np.ndarray:
        if st.w_loo is None:
            st.w_loo = _loo_sum(self.seg, st.w)
        return st.w_loo

    def diag_p(self, st) -> np.ndarray:
        """P_ii = w_i (W - w_i) / W."""
        return st.w * self.loo(st) / self.seg.rep(st.W)

    def tr_p(self, st) -> np.ndarray:
        return self.seg.sum(st.w * self.loo(st)) / st.W

    def sum_p2(self, st, a=None, b=None) -> np.ndarray:
        """tr(Da P Db P) = sum_ij P_ij^2 a_i b_j (a, b default to 1), stably.

        Diagonal: P_ii = w_i (W - w_i) / W; off-diagonal: (w_i w_j / W)^2, summed
        as sum_i a_i w_i^2 * sum_{j != i} b_j w_j^2.
        """
        seg, w, W = self.seg, st.w, st.W
        aa = 1.0 if a is None else a
        bb = 1.0 if b is None else b
        p_ii = w * self.loo(st) / seg.rep(W)
        diag = seg.sum(aa * bb * p_ii * p_ii)
        w2 = w * w
        xb = bb * w2 if b is not None else w2
        off = seg.sum(aa * w2 * _loo_sum(seg, xb))
        return diag + off / (W * W)

    def logdet(self, st) -> np.ndarray:
        return np.log(st.W)


class _IState:
    __slots__ = ("w", "W", "w_loo")

    def __init__(self, w, W):
        self.w, self.W, self.w_loo = w, W, None


class _DesignModel:
    """A full-rank design matrix X (n x p, the same p in every analysis)."""

    def __init__(self, seg: _Segments, v: np.ndarray, x: np.ndarray):
        self.seg = seg
        self.v = v
        self.x = x
        self.p = int(x.shape[1])
        self.xx = x[:, :, None] * x[:, None, :]

    def select(self, sel: np.ndarray, k: np.ndarray) -> _DesignModel:
        return _DesignModel(_Segments(k), self.v[sel], self.x[sel])

    def _msum(self, a: np.ndarray) -> np.ndarray:
        """Per analysis sum_i a_i x_i x_i' (G x p x p)."""
        return self.seg.sum(a[:, None, None] * self.xx)

    def state(self, w: np.ndarray):
        M = self._msum(w)
        return _DState(w, self.seg.sum(w), M, np.linalg.inv(M))

    def coef(self, st, y: np.ndarray) -> np.ndarray:
        """Weighted least-squares coefficients (X'WX)^-1 X'Wy per analysis (G x p)."""
        xwy = self.seg.sum((st.w * y)[:, None] * self.x)
        return np.einsum("gij,gj->gi", st.A, xwy)

    def resid(self, st, y: np.ndarray) -> np.ndarray:
        b = self.coef(st, y)
        return y - np.einsum("ij,ij->i", self.x, b[self.seg.gid])

    def rss(self, st, y: np.ndarray) -> np.ndarray:
        r = self.resid(st, y)
        return self.seg.sum(st.w * r * r)

    def lev(self, st) -> np.ndarray:
        """q_i = x_i' (X'WX)^-1 x_i (the hat value is w_i q_i)."""
        if st.q is None:
            st.q = np.einsum("ij,ijk,ik->i", self.x, st.A[self.seg.gid], self.x)
        return st.q

    def diag_p(self, st) -> np.ndarray:
        return st.w * (1.0 - st.w * self.lev(st))

    def tr_p(self, st) -> np.ndarray:
        return self.seg.sum(self.diag_p(st))

    def sum_p2(self, st, a=None, b=None) -> np.ndarray:
        """tr(Da P Db P) = sum w^2 a b - 2 sum w^3 q a b + tr(A Ma A Mb), Ma = X'W Da W X."""
        w, q = st.w, self.lev(st)
        aa = np.ones_like(w) if a is None else a
        bb = np.ones_like(w) if b is None else b
        w2 = w * w
        first = self.seg.sum(w2 * aa * bb) - 2.0 * self.seg.sum(w2 * w * q * aa * bb)
        am = st.A @ self._msum(w2 * aa)
        bm = am if b is None and a is None else st.A @ self._msum(w2 * bb)
        return first + np.einsum("gij,gji->g", am, bm)

    def logdet(self, st) -> np.ndarray:
        return np.linalg.slogdet(st.M)[1]


class _DState:
    __slots__ = ("w", "W", "M", "A", "q")

    def __init__(self, w, W, M, A):
        self.w, self.W, self.M, self.A, self.q = w, W, M, A, None


class _Subset:
    """A model and row arrays restricted to a subset of analyses (cached while
    the subset stays the same).

    The iterative estimators shrink their working set as analyses converge;
    segment sums do not depend on the other segments, so results are
    bit-for-bit those of the full set.
    """

    __slots__ = ("model", "arrays", "_n", "_sub", "_rows")

    def __init__(self, model, *arrays: np.ndarray):
        self.model = model
        self.arrays = arrays
        self._n = -1
        self._sub = None
        self._rows = ()

    def get(self, idx: np.ndarray):
        """Model and row arrays for the analyses ``idx`` (sorted; only ever shrinks)."""
        if idx.size != self._n:
            seg = self.model.seg
            if idx.size == seg.G:
                self._sub, self._rows = self.model, self.arrays
            else:
                keep = np.zeros(seg.G, dtype=bool)
                keep[idx] = True
                sel = keep[seg.gid]
                self._sub = self.model.select(sel, seg.k[idx])
                self._rows = tuple(a[sel] for a in self.arrays)
            self._n = idx.size
        return self._sub, self._rows


def _weights(m, tau2: np.ndarray) -> np.ndarray:
    return 1.0 / (m.v + m.seg.rep(tau2))




def _fisher_scoring(model, ymc, tau2_start, method, ctl: _Control, todo):
    """metafor's Fisher scoring for ML / REML / EB, vectorised over analyses.

    Analyses leave the working set as soon as they converge or fail.
    """
    G = model.seg.G
    p = float(model.p)
    tau2_out = tau2_start.copy()
    conv = np.zeros(G, dtype=bool)
    n_iter = np.zeros(G, dtype=np.int64)
    idx = np.flatnonzero(todo)
    work = _Subset(model, ymc)
    t = tau2_start[idx].copy()
    it = 0
    with np.errstate(all="ignore"):
        while idx.size:
            it += 1
            sub, (y_s,) = work.get(idx)
            kf = sub.seg.kf
            st = sub.state(_weights(sub, t))
            r = sub.resid(st, y_s)
            if method == "EB":
                q = sub.seg.sum(st.w * r * r)
                adj = (q * kf / (kf - p) - kf) / st.W
            else:
                pr = st.w * r  # P %*% Y
                ypp = sub.seg.sum(pr * pr)  # Y'PPY
                if method == "ML":
                    adj = (ypp - st.W) / sub.seg.sum(st.w * st.w)
                else:  # REML
                    adj = (ypp - sub.tr_p(st)) / sub.sum_p2(st)
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


def loglik(model, y, tau2, reml: bool) -> np.ndarray:
    """ML or REML log-likelihood at tau2 (metafor's ``ll.ML`` / ``ll.REML`` without
    the ``|X'X|`` term, as in its ll0check)."""
    seg = model.seg
    st = model.state(_weights(model, tau2))
    ll = -0.5 * (seg.kf - (float(model.p) if reml else 0.0)) * _LOG_2PI
    ll = ll - 0.5 * seg.sum(np.log(model.v + seg.rep(tau2))) - 0.5 * model.rss(st, y)
    if reml:
        ll = ll - 0.5 * model.logdet(st)
    return ll


def _tau2_max_pm(seg, y, ctl: _Control):
    if ctl.tau2_max is not None:
        return np.full(seg.G, float(ctl.tau2_max))
    center = seg.median(y)
    mad = 1.4826 * seg.median(np.abs(y - seg.rep(center)))
    return np.maximum(100.0, 10.0 * (mad * mad))


@dataclass
class Tau2Estimate:
    """tau2 per analysis and what the estimators computed on the way.

    ``qe``, ``tr_p0`` and ``w0_sum`` belong to the fixed-effect weights
    ``1 / vi``: metafor's ``QE``, ``tr(P)`` (for the typical within-study
    variance ``(k - p) / tr(P)``) and ``sum(1 / vi)``.
    """

    tau2: np.ndarray
    tau2_se: np.ndarray
    converged: np.ndarray
    n_iter: np.ndarray
    code: np.ndarray
    notes: list
    fitted: np.ndarray  # k > p: analyses with a residual df
    qe: np.ndarray
    tr_p0: np.ndarray
    w0_sum: np.ndarray


def i2_h2(method: str, est: Tau2Estimate, dfr: np.ndarray):
    """metafor's I^2 (percent) and H^2 (``i2def = "1"``): from QE for FE, else from
    tau2 and the typical within-study variance ``(k - p) / tr(P)``."""
    multi = est.fitted
    qe, tau2 = est.qe, est.tau2
    with np.errstate(all="ignore"):
        if method == "FE":
            i2 = np.where(multi, np.maximum(0.0, 100.0 * (qe - dfr) / qe), 0.0)
            i2 = np.where(np.isnan(i2) & multi, 0.0, i2)
            h2 = np.where(multi, qe / np.maximum(dfr, 1), 1.0)
        else:
            vt = dfr / est.tr_p0
            i2 = np.where(multi, 100.0 * tau2 / (vt + tau2), 0.0)
            h2 = np.where(multi, tau2 / vt + 1.0, 1.0)
    return i2, h2


def estimate_tau2(model, y: np.ndarray, method: str, ctl: _Control) -> Tau2Estimate:
    """tau2 of every analysis of ``model`` by ``method`` (metafor ``rma.uni``).

    ``y`` are the outcomes (flat, by analysis).  Analyses with ``k <= p`` get
    tau2 = 0 (metafor: k = 1 in the intercept model).
    """
    seg = model.seg
    v = model.v
    G = seg.G
    kf = seg.kf
    p = float(model.p)
    dfr = kf - p
    multi = seg.k > model.p
    with np.errstate(all="ignore"):
        ybar = seg.sum(y) / kf
        ymc = y - seg.rep(ybar)  # metafor works with the mean-centred outcomes
        zeros = np.zeros(G)
        st0 = model.state(1.0 / v)
        rss0 = model.rss(st0, ymc)
        tr_p0 = model.tr_p(st0)
        qe = np.where(multi, np.maximum(0.0, rss0), 0.0)

        tau2 = np.zeros(G)
        conv = np.ones(G, dtype=bool)
        n_iter = np.zeros(G, dtype=np.int64)
        code = np.full(G, _MSG_OK, dtype=np.int64)
        notes: list[list[str]] = [[] for _ in range(G)]
        tau2_se = np.full(G, np.nan)
        he = None
        sj = None

        if method in ("HE", "ML", "REML", "EB"):
            st1 = model.state(np.ones_like(v))  # OLS: P = I - X (X'X)^-1 X'
            tr_pv = seg.sum(model.diag_p(st1) * v)
            he = (st1, tr_pv)
            tau2 = (model.rss(st1, ymc) - tr_pv) / dfr
        if method in ("FE", "HE"):
            pass
        elif method == "DL":
            tau2 = (rss0 - dfr) / tr_p0
        elif method == "HS":
            tau2 = (rss0 - kf) / st0.W
        elif method == "SJ":
            t0 = seg.sum(ymc * ymc) / kf  # var(ymci) * (k - 1) / k
            st_sj = model.state(_weights(model, t0))
            sj = (t0, st_sj)
            tau2 = t0 * model.rss(st_sj, ymc) / dfr
        elif method == "PM":
            f0 = rss0 - dfr
            tmax = _tau2_max_pm(seg, y, ctl)
            fmax = model.rss(model.state(_weights(model, tmax)), ymc) - dfr
            at_zero = multi & (f0 < 0.0)
            too_low = multi & ~at_zero & (fmax > 0.0)
            solve = multi & ~at_zero & ~too_low
            work = _Subset(model, ymc)

            def f(t, idx):
                sub, (y_s,) = work.get(idx)
                return sub.rss(sub.state(_weights(sub, t)), y_s) - dfr[idx]

            root, it_z, ok = _zeroin(f, zeros, tmax, f0, fmax, ctl.tol, ctl.maxiter, solve)
            tau2 = np.where(solve, root, 0.0)
            n_iter = np.where(solve, it_z, 0)
            conv = ~too_low & ~(solve & ~ok)
            code[too_low] = _MSG_TAU2MAX
            code[solve & ~ok] = _MSG_ZEROIN
            for g in np.flatnonzero(too_low):
                notes[g].append(
                    f"PM: Q(tau2_max = {tmax[g]:.6g}) is still above k - p; metafor stops with "
                    "\"Value of 'tau2.max' too low\" (increase control tau2_max or use another method)"
                )
            for g in np.flatnonzero(solve & ~ok):
                notes[g].append(f"PM: root finder did not converge in {ctl.maxiter} iterations")
        elif method in ("REML", "ML", "EB"):
            start = np.maximum(0.0, np.where(np.isnan(tau2), 0.0, tau2))
            tau2, fs_conv, n_iter = _fisher_scoring(model, ymc, start, method, ctl, multi)
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
                    ll0 = loglik(model, ymc, zeros, reml)
                    ll1 = loglik(model, ymc, np.where(chk, tau2, 0.0), reml)
                    stuck = chk & (ll0 - ll1 > ctl.tol)
                    tau2 = np.where(stuck, 0.0, tau2)
                    for g in np.flatnonzero(stuck):
                        notes[g].append(
                            f"{method}: Fisher scoring may have got stuck at a local maximum; "
                            "tau2 set to 0 (as metafor does, with a warning)"
                        )
        elif method != "FE":
            raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")

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
        if method in ("DL", "HS"):
            num = 2.0 * dfr + 4.0 * tp * tr_p0 + 2.0 * tp * tp * model.sum_p2(st0)
            den = tr_p0 if method == "DL" else st0.W
            tau2_se = np.sqrt(num / (den * den))
        elif method == "HE":
            st1, tr_pv = he
            tau2_se = np.sqrt((2.0 * model.sum_p2(st1, v, v) + 4.0 * tp * tr_pv
                               + 2.0 * tp * tp * dfr) / (dfr * dfr))
        elif method == "SJ":
            t0, st_sj = sj
            a_ = model.sum_p2(st_sj, v, v)
            b_ = model.sum_p2(st_sj, None, v)
            c_ = model.sum_p2(st_sj)
            tau2_se = np.sqrt(t0 * t0 / (dfr * dfr) * (2.0 * a_ + 4.0 * tp * b_ + 2.0 * tp * tp * c_))
        elif method in ("ML", "REML", "EB", "PM"):
            st_t = model.state(_weights(model, tp))
            if method == "ML":
                tau2_se = np.sqrt(2.0 / seg.sum(st_t.w * st_t.w))
            elif method == "REML":
                tau2_se = np.sqrt(2.0 / model.sum_p2(st_t))
            else:
                tau2_se = np.sqrt(2.0 * kf * kf / dfr / (st_t.W * st_t.W))
        tau2_se = np.where(multi & conv, tau2_se, np.nan)

    return Tau2Estimate(tau2=tau2, tau2_se=tau2_se, converged=conv, n_iter=n_iter, code=code,
                        notes=notes, fitted=multi, qe=qe, tr_p0=tr_p0, w0_sum=st0.W)
