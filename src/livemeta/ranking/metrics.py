"""Screening metrics as ASReview Insights defines them (asreview-insights 1.6, ``algorithms.py`` and
``metrics.py``): arrays in, numbers out.

``labels`` is the list of 0/1 labels in the order the records were screened, the prior records left
out (Insights' default, ``priors=False``), and, when a simulation stopped before every record was
screened, padded with zeros to the number of records that are not priors (as Insights'
``get_simulation_labels`` does).

* **Recall at a fraction x screened** (``recall(labels, 0.10)``): the share of the includes found
  among the first ``i`` records, where ``i`` is the number of positions ``j/n`` (j = 1..n) that are
  at most x; 0 when x is below ``1/n``.
* **Work saved over sampling at recall r** (``wss(labels, 0.95)``): for the t-th include
  (t = 1..n_includes), the position where the ranking found it and the position where screening in
  random order is expected to (the first position where ``round(linspace(0, n_includes, n))``
  reaches t); their difference over n, read at the largest t with ``t / n_includes <= r``.

The computation repeats Insights' floating-point steps, so that values equal its own bit for bit
(``tests/ranking/reference/`` holds values computed by Insights itself).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["recall", "wss", "UndefinedMetric"]


class UndefinedMetric(ValueError):
    """A metric needs at least one include among the labels (after the priors)."""


def _labels(labels: Sequence[int]) -> np.ndarray:
    arr = np.asarray(labels, dtype=np.int64)
    if arr.ndim != 1:
        raise ValueError("labels must be one-dimensional")
    if arr.size and not np.isin(arr, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")
    if arr.sum() == 0:
        raise UndefinedMetric("no include among the labels: recall and WSS are undefined")
    return arr


def _slice(x: np.ndarray, y: np.ndarray, at: float):
    # Insights' _slice_metric: the last value whose x is at most ``at``.
    i = np.searchsorted(x, at, side="right")
    return y[i - 1]


def recall(labels: Sequence[int], fraction: float) -> float:
    """Recall after screening ``fraction`` of the records (Insights' ``_recall``)."""
    arr = _labels(labels)
    n = arr.size
    x = np.arange(1, n + 1) / n
    y = np.cumsum(arr) / arr.sum()
    if fraction < x[0]:
        return 0.0
    return float(_slice(x, y, fraction))


def wss(labels: Sequence[int], at_recall: float = 0.95) -> float:
    """Work saved over sampling at recall ``at_recall`` (Insights' ``_wss``)."""
    arr = _labels(labels)
    n = arr.size
    n_pos = int(arr.sum())
    found = np.cumsum(arr)
    found_random = np.round(np.linspace(0, n_pos, n))
    targets = np.arange(1, n_pos + 1)
    earlier = np.searchsorted(found_random, targets) - np.searchsorted(found, targets)
    x = targets / n_pos
    y = earlier / n
    return float(_slice(x, y, at_recall))
