"""Vectorised pooling of many meta-analyses at once (:func:`pool_many`).

pandas is used only at this edge: the studies of all analyses are sorted by
analysis into flat numpy arrays and handed to the same engine as
:func:`livemeta.pooling.pool` (``core._fit``), which works with segment sums
and runs the iterative estimators for all analyses together.  There is no
Python loop over analyses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .core import _check_level, _check_method, _check_pi, _check_test, _Control, _fit, _Segments
from .results import SCALAR_FIELDS

__all__ = ["pool_many", "group_rows"]


def group_rows(frame, by: list[str]):
    """The analyses of ``frame``: ``(keys, k, order)``.

    ``keys`` has one row per distinct combination of the ``by`` columns
    (sorted, missing values as their own group; one row when ``by`` is
    empty), ``k`` the number of rows of each, and ``order`` the row order
    that puts the rows of each analysis together (stable).
    """
    import pandas as pd

    if by:
        gb = frame.groupby(by, sort=True, dropna=False, observed=True)
        codes = gb.ngroup().to_numpy()
        keys = gb.size().index.to_frame(index=False)
    else:
        codes = np.zeros(len(frame), dtype=np.int64)
        keys = pd.DataFrame(index=range(1))
    k = np.bincount(codes, minlength=len(keys))
    return keys, k, np.argsort(codes, kind="stable")


def pool_many(
    frame,
    by: str | Sequence[str] | None = None,
    yi: str = "yi",
    vi: str = "vi",
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    pi: str = "default",
    scale: str = "identity",
    control: Mapping[str, Any] | None = None,
):
    """Pool every group of ``frame`` as its own meta-analysis, vectorised.

    Each group gives exactly what :func:`~livemeta.pooling.pool` gives for
    its rows (same engine; agreement is tested to 1e-10 for closed-form and
    1e-8 for iterative estimators), i.e. R metafor's
    ``rma(yi, vi, method=method, test=test)`` plus ``predict()`` per group.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per study.
    by : str or list of str, optional
        Grouping columns (one analysis per distinct combination, including
        missing values as their own group).  ``None``/``[]``: one analysis.
    yi, vi : str
        Columns with effect sizes and sampling variances (``yi`` finite,
        ``vi`` finite and > 0, else :class:`ValueError` naming the row).
    method, test, level, pi, scale, control
        As for :func:`~livemeta.pooling.pool`.

    Returns
    -------
    pandas.DataFrame
        One row per group, sorted by the ``by`` columns: the ``by`` columns
        followed by ``SCALAR_FIELDS`` (the columns of
        ``PoolResult.to_frame()``).  Non-converged groups have
        ``converged=False``, a ``message`` and ``nan`` estimates.
    """
    import pandas as pd

    method = _check_method(method)
    test = _check_test(test)
    level = _check_level(level)
    pi = _check_pi(pi)
    ctl = _Control.make(control)
    if isinstance(by, str):
        by = [by]
    by = list(by) if by is not None else []
    missing = [c for c in [*by, yi, vi] if c not in frame.columns]
    if missing:
        raise ValueError(f"pool_many: column(s) not in frame: {missing}")
    if len(set(by) & {yi, vi}):
        raise ValueError("pool_many: 'by' must not contain the yi/vi columns")
    clash = [c for c in by if c in SCALAR_FIELDS]
    if clash:
        raise ValueError(f"pool_many: 'by' column(s) {clash} clash with result column names")

    y = pd.to_numeric(frame[yi], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    v = pd.to_numeric(frame[vi], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    for name, arr, cond, what in (
        (yi, y, ~np.isfinite(y), "is not finite"),
        (vi, v, ~np.isfinite(v), "is not finite"),
        (vi, v, np.isfinite(v) & (v <= 0), "must be > 0 (sampling variances must be positive)"),
    ):
        if cond.any():
            pos = int(np.flatnonzero(cond)[0])
            label = frame.index[pos]
            label = label.item() if isinstance(label, np.generic) else label
            raise ValueError(f"{name} at row {pos} (index {label!r}) = {float(arr[pos])!r} {what}")

    if len(frame) == 0:
        return pd.DataFrame(columns=[*by, *SCALAR_FIELDS])
    keys, k, order = group_rows(frame, by)
    seg = _Segments(k)
    out = _fit(seg, y[order], v[order], method=method, test=test, level=level, pi=pi, ctl=ctl)
    G = seg.G
    cols: dict[str, Any] = {
        "method": np.full(G, method, dtype=object),
        "test": out["test"].astype(object),
        "level": np.full(G, level),
        "pi_dist": out["pi_dist"].astype(object),
        "scale": np.full(G, str(scale), dtype=object),
        "message": np.asarray(out["message"], dtype=object),
    }
    for name in SCALAR_FIELDS:
        if name not in cols:
            cols[name] = out[name]
    res = pd.DataFrame({name: cols[name] for name in SCALAR_FIELDS})
    return pd.concat([keys.reset_index(drop=True), res], axis=1)
