"""Leave-one-out and cumulative meta-analysis (metafor ``leave1out()``, ``cumul()``).

:func:`leave_one_out` and :func:`cumulative` refit
:func:`~livemeta.pooling.pool` (inverse-variance models, ``yi``/``vi``);
:func:`leave_one_out_tables` and :func:`cumulative_tables` refit the
Mantel-Haenszel or Peto model (:func:`~livemeta.pooling.pool_mh`,
:func:`~livemeta.pooling.pool_peto`) on subsets of the 2x2 tables, as
metafor's ``leave1out()`` / ``cumul()`` of ``rma.mh`` and ``rma.peto``
objects.  All return a
:class:`SensitivityResult`: one :class:`~livemeta.pooling.results.PoolResult`
per step plus the arrays metafor prints (estimate, se, stat, p, CI, Q, Q p,
tau^2, I^2, H^2).  A fit that raises is recorded as ``None`` with ``nan``
values, as metafor records ``NA`` for a failed fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ._validate import yi_vi
from .results import PoolResult

__all__ = ["SensitivityResult", "leave_one_out", "cumulative", "leave_one_out_tables",
           "cumulative_tables"]

_COLS = ("estimate", "se", "stat", "p", "ci_low", "ci_high", "q", "q_p", "tau2", "i2", "h2")


@dataclass(frozen=True)
class SensitivityResult:
    """Results of :func:`leave_one_out` or :func:`cumulative`.

    Attributes
    ----------
    kind : {"leave_one_out", "cumulative"}
    index : np.ndarray of int
        For leave-one-out, the (0-based) study omitted at each step; for
        cumulative, the study added at each step (the processing order).
    results : tuple of PoolResult or None
    estimate, se, stat, p, ci_low, ci_high, q, q_p, tau2, i2, h2 : np.ndarray
        The matching fields of ``results`` (``nan`` where a fit failed).
    """

    kind: str
    method: str
    test: str
    level: float
    index: np.ndarray
    results: tuple = field(repr=False)
    estimate: np.ndarray = field(repr=False)
    se: np.ndarray = field(repr=False)
    stat: np.ndarray = field(repr=False)
    p: np.ndarray = field(repr=False)
    ci_low: np.ndarray = field(repr=False)
    ci_high: np.ndarray = field(repr=False)
    q: np.ndarray = field(repr=False)
    q_p: np.ndarray = field(repr=False)
    tau2: np.ndarray = field(repr=False)
    i2: np.ndarray = field(repr=False)
    h2: np.ndarray = field(repr=False)
    columns: dict = field(repr=False, default_factory=dict)  # every PoolResult field per step

    def to_frame(self):
        """One row per step: ``step``, ``omitted``/``added`` (0-based index), ``k``
        and the PoolResult columns (metafor's printed columns among them)."""
        import pandas as pd

        col = "omitted" if self.kind == "leave_one_out" else "added"
        return pd.DataFrame({"step": np.arange(len(self.index)), col: np.asarray(self.index, dtype=int),
                             **self.columns})


def _columns(results) -> dict:
    """Every scalar field of ``results`` (``None``: a failed fit, all ``nan``) as one column each."""
    from .results import SCALAR_FIELDS

    return {f: [np.nan if r is None else getattr(r, f) for r in results] for f in SCALAR_FIELDS}


def _collect(kind, method, test, level, index, results, columns=None):
    columns = columns if columns is not None else _columns(results)
    arrays = {c: np.array(columns[c], dtype=float) for c in _COLS}
    return SensitivityResult(kind=kind, method=method, test=test, level=level,
                             index=np.asarray(index, dtype=int), results=results,
                             **arrays, columns=columns)


def _fit(pool, y, v, method, test, level, scale) -> PoolResult | None:
    try:
        return pool(y, v, method=method, test=test, level=level, scale=scale)
    except (ValueError, ArithmeticError, np.linalg.LinAlgError):
        return None


def leave_one_out(yi, vi, *, method="REML", test="z", level=0.95,
                  scale="identity") -> SensitivityResult:
    """Pool all studies but one, for each study in turn.

    Matches ``leave1out(rma(yi, vi, method = method, test = test, level = level))``:
    step ``i`` omits study ``i`` (input order).

    Parameters
    ----------
    yi, vi : array_like
        Effect sizes and sampling variances (k >= 2).
    method, test, level, scale
        Passed to :func:`~livemeta.pooling.pool`.
    """
    from .core import pool

    y, v = yi_vi(yi, vi)
    k = y.size
    if k < 2:
        raise ValueError("leave-one-out needs k >= 2 studies")
    res = []
    for i in range(k):
        keep = np.arange(k) != i
        res.append(_fit(pool, y[keep], v[keep], method, test, level, scale))
    return _collect("leave_one_out", method, test, level, np.arange(k), tuple(res))


def cumulative(yi, vi, order=None, *, decreasing=False, method="REML", test="z",
               level=0.95, scale="identity") -> SensitivityResult:
    """Cumulative meta-analysis: add studies one at a time in the order of ``order``.

    Matches ``cumul(rma(yi, vi, method, test, level), order = order)``.

    Parameters
    ----------
    yi, vi : array_like
        Effect sizes and sampling variances.
    order : array_like, optional
        Sort key per study (e.g. publication year).  ``None`` keeps the input
        order.  The sort is **stable**: studies with equal keys keep their
        input order (as R's ``order()``, whose default radix sort is stable),
        also when ``decreasing=True``.
    decreasing : bool
        Sort the key in decreasing order (metafor's ``decreasing`` argument).
    method, test, level, scale
        Passed to :func:`~livemeta.pooling.pool`.

    Returns
    -------
    SensitivityResult
        ``index[j]`` is the study added at step ``j``; step ``j`` pools
        ``index[:j + 1]``.
    """
    from functools import partial

    from .core import _check_level, _check_method, _check_test, _Control, _pool_checked

    y, v = yi_vi(yi, vi)
    k = y.size
    idx = _order_index(order, k, decreasing)
    ys, vs = y[idx], v[idx]
    method, test, level = _check_method(method), _check_test(test), _check_level(level)
    if method == "FE":
        columns = _prefix_fe(ys, vs, test=test, level=level, scale=scale)
    else:  # each prefix by the engine, without its weights (made when a step is asked for)
        fit = partial(_pool_checked, pi="default", ctl=_Control(), weights=False)
        columns = _columns([_fit(fit, ys[: j + 1], vs[: j + 1], method, test, level, scale) for j in range(k)])
    steps = _Steps(ys, vs, columns, dict(method=method, test=test, level=level, scale=scale))
    return _collect("cumulative", method, test, level, idx, steps, columns)


class _Steps(Sequence):
    """The :class:`PoolResult` of each step of a cumulative analysis, made when asked for: the
    numbers of the step (as in :attr:`SensitivityResult.columns`) with the weights of its studies.
    Keeping every step's weights would hold k(k+1)/2 numbers."""

    def __init__(self, ys, vs, columns: dict, kw: dict):
        self._ys, self._vs, self._columns, self._kw = ys, vs, columns, kw

    def __len__(self) -> int:
        return len(self._ys)

    def __getitem__(self, j):
        if isinstance(j, slice):
            return tuple(self[i] for i in range(*j.indices(len(self))))
        j = range(len(self))[j]
        from .results import PoolResult

        fields = {f: _plain(self._columns[f][j]) for f in self._columns}
        if not isinstance(fields["method"], str):
            return None  # the fit failed (metafor: NA)
        with np.errstate(all="ignore"):
            w = 1.0 / (self._vs[: j + 1] + fields["tau2"])
            weights = (100.0 * w / np.add.reduceat(w, [0])[0]).tolist()
        return PoolResult(**fields, weights=tuple(weights))


def _plain(x):
    """A numpy scalar as the Python scalar a PoolResult holds."""
    return x.item() if isinstance(x, np.generic) else x


def _prefix_fe(ys: np.ndarray, vs: np.ndarray, *, test: str, level: float, scale: str) -> dict:
    """Every prefix of a fixed-effect analysis at once, from running sums (O(1) per prefix): the
    weights, their sum and the weighted mean accumulate; Cochran's Q accumulates by non-negative
    increments ``w_j (y_j - m_{j-1}) (y_j - m_j)`` (West 1979), free of cancellation. The rest is
    what the engine reports of any fit (``core._summarise``)."""
    from ._tau2 import Tau2Estimate
    from .core import _summarise

    n = ys.size
    k = np.arange(1, n + 1)
    with np.errstate(all="ignore"):
        w = 1.0 / vs
        W = np.cumsum(w)
        est = np.cumsum(w * ys) / W
        before = np.concatenate(([est[0]], est[:-1]))
        q = np.cumsum(w * (ys - before) * (ys - est))
        multi = k > 1
        est_t2 = Tau2Estimate(
            tau2=np.zeros(n), tau2_se=np.full(n, np.nan), converged=np.ones(n, dtype=bool),
            n_iter=np.zeros(n, dtype=np.int64), code=np.zeros(n, dtype=np.int64), notes=[[] for _ in range(n)],
            fitted=multi, qe=np.where(multi, np.maximum(0.0, q), 0.0), tr_p0=W - np.cumsum(w * w) / W, w0_sum=W,
        )
        out = _summarise(k, est_t2, W, est, q if test == "knha" else None, method="FE", test=test, level=level,
                         pi="default")
    out.pop("code")
    return {"method": ["FE"] * n, "test": out["test"].tolist(), "level": [float(level)] * n, "k": k,
            **{f: out[f] for f in ("estimate", "se", "stat", "df", "p", "ci_low", "ci_high", "tau2", "tau2_se", "tau",
                                   "i2", "h2", "i2_q", "q", "q_df", "q_p", "pi_low", "pi_high")},
            "pi_dist": out["pi_dist"].tolist(), "scale": [str(scale)] * n, "converged": out["converged"],
            "n_iter": out["n_iter"], "message": out["message"]}


def _order_index(order, k: int, decreasing: bool) -> np.ndarray:
    """Processing order of a cumulative analysis: a stable sort of ``order``."""
    if order is None:
        return np.arange(k)
    key = np.asarray(order).ravel()
    if key.size != k:
        raise ValueError(f"order has length {key.size}, expected {k}")
    if decreasing:
        # stable descending: sort ranks of the negated order, ties keep input order
        uniq, inv = np.unique(key, return_inverse=True)
        return np.argsort(-inv.ravel(), kind="stable")
    return np.argsort(key, kind="stable")


def _tables_fitter(method: str, measure: str, level: float, options: dict):
    from .twobytwo import pool_mh, pool_peto

    method = method.upper()
    if method == "MH":
        def fit(a, b, c, d):
            return pool_mh(a, b, c, d, measure=measure, level=level, **options)
    elif method == "PETO":
        def fit(a, b, c, d):
            return pool_peto(a, b, c, d, level=level, **options)
    else:
        raise ValueError(f"method must be 'MH' or 'PETO', got {method!r}")

    def safe(a, b, c, d, sel):
        try:
            return fit(a[sel], b[sel], c[sel], d[sel])
        except (ValueError, ArithmeticError):
            return None  # metafor records NA where the refit stops
    return method, safe


def _cells(ai, bi, ci, di):
    cells = [np.asarray(x, dtype=float).ravel() for x in (ai, bi, ci, di)]
    if len({c.size for c in cells}) != 1:
        raise ValueError("ai, bi, ci, di differ in length")
    return cells


def leave_one_out_tables(ai, bi, ci, di, *, method: str = "MH", measure: str = "OR",
                         level: float = 0.95, **options) -> SensitivityResult:
    """Leave-one-out of a Mantel-Haenszel or Peto model.

    Matches ``leave1out(rma.mh(ai, bi, ci, di, measure, ...))`` and
    ``leave1out(rma.peto(ai, bi, ci, di, ...))``: step ``i`` refits the
    model on all tables but table ``i`` with the same zero-cell options
    (``add``, ``to``, ``drop00`` as for :func:`~livemeta.pooling.pool_mh`).
    """
    a, b, c, d = _cells(ai, bi, ci, di)
    k = a.size
    if k < 2:
        raise ValueError("leave-one-out needs k >= 2 tables")
    method, fit = _tables_fitter(method, measure, level, options)
    res = [fit(a, b, c, d, np.arange(k) != i) for i in range(k)]
    return _collect("leave_one_out", method, "z", level, np.arange(k), tuple(res))


def cumulative_tables(ai, bi, ci, di, order=None, *, decreasing: bool = False, method: str = "MH",
                      measure: str = "OR", level: float = 0.95, **options) -> SensitivityResult:
    """Cumulative Mantel-Haenszel or Peto meta-analysis, tables added in the order of ``order``.

    Matches ``cumul(rma.mh(...), order = order)`` / ``cumul(rma.peto(...), order = order)``
    (stable sort, as :func:`cumulative`).
    """
    a, b, c, d = _cells(ai, bi, ci, di)
    k = a.size
    idx = _order_index(order, k, decreasing)
    method, fit = _tables_fitter(method, measure, level, options)
    res = [fit(a, b, c, d, idx[: j + 1]) for j in range(k)]
    return _collect("cumulative", method, "z", level, idx, tuple(res))
