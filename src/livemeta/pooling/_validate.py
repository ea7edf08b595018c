"""Shared input checks for the pooling engine (private).

Every check raises :class:`ValueError` naming the first offending index.
:func:`livemeta.pooling.core.validate_inputs` (the public check used by
``pool``) keeps its own messages, which quote the offending value; the helpers
here give the shorter ``"... at index i"`` messages of the other modules.
"""

from __future__ import annotations

import numpy as np


def first_index(mask) -> int | None:
    """Index of the first true element of ``mask``, or ``None`` if there is none."""
    bad = np.flatnonzero(mask)
    return int(bad[0]) if bad.size else None


def require_none(mask, what: str) -> None:
    """Raise ``ValueError(f"{what} at index {i}")`` for the first true ``mask[i]``."""
    i = first_index(mask)
    if i is not None:
        raise ValueError(f"{what} at index {i}")


def check_finite_positive(y: np.ndarray, v: np.ndarray) -> None:
    """Every ``y`` and ``v`` finite, every ``v`` > 0 (arrays of equal length)."""
    require_none(~np.isfinite(y) | ~np.isfinite(v), "yi/vi missing or not finite")
    require_none(v <= 0, "vi <= 0")


def yi_vi(yi, vi) -> tuple[np.ndarray, np.ndarray]:
    """``yi``, ``vi`` flattened to float arrays of equal length, finite, ``vi`` > 0."""
    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    if y.shape != v.shape:
        raise ValueError(f"yi and vi differ in length: {y.size} vs {v.size}")
    check_finite_positive(y, v)
    return y, v
