"""Replay a labelled dataset as a reviewer screening with the model would: the prior records first,
then one record at a time, always the one the model retrained on every label so far ranks first,
until the last include is found; the records left follow in the model's last ranking (every one an
exclude, so no metric depends on their order; ASReview's simulation stops at the last include too).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from . import metrics
from .model import DEFAULT, ModelConfig, Ranker
from .records import Record

__all__ = ["SimulationResult", "simulate", "resolve_priors"]


@dataclass(frozen=True)
class SimulationResult:
    order: list  # every record id in the order screened, priors first
    priors: list
    seed: int
    records: int
    includes: int
    wss95: float | None  # ASReview Insights' definitions, priors excluded; None without an include after them
    recall10: float | None
    recall25: float | None
    last_include_at: int  # records screened (priors included) when the last include was found
    seconds: float
    model: str

    def to_dict(self) -> dict:
        return asdict(self)


def resolve_priors(records: Sequence[Record], prior_ids: Sequence) -> list[int]:
    """Row numbers of the prior records, named by record id (compared as text, so ``"12"`` names the
    record with id 12). Raises ValueError naming an id that is unknown or given twice."""
    rows = {str(r.record_id): i for i, r in enumerate(records)}
    out, seen = [], set()
    for pid in prior_ids:
        key = str(pid).strip()
        if key not in rows:
            raise ValueError(f"prior record_id {key!r} is not in the dataset")
        if key in seen:
            raise ValueError(f"prior record_id {key!r} is given twice")
        seen.add(key)
        out.append(rows[key])
    return out


def _metric(fn, labels, at):
    try:
        return fn(labels, at)
    except metrics.UndefinedMetric:
        return None


def simulate(records: Sequence[Record], labels: Sequence[int], prior_ids: Sequence = (), *, seed: int = 0,
             config: ModelConfig = DEFAULT) -> SimulationResult:
    """Screen ``records`` (with their true ``labels``, 0/1) from the priors, one record at a time."""
    start = time.perf_counter()
    y = np.asarray(labels, dtype=np.int8)
    if y.shape != (len(records),):
        raise ValueError("one label per record")
    priors = resolve_priors(records, prior_ids)
    ranker = Ranker(records, config=config, seed=seed)
    n = len(ranker)
    rng = np.random.default_rng(seed)
    screened = np.zeros(n, dtype=bool)
    order = list(priors)
    screened[priors] = True
    total, found = int(y.sum()), int(y[priors].sum())
    while found < total:
        idx = np.asarray(order, dtype=np.intp)
        scores = ranker.scores(idx, y[idx])
        if scores is None:
            j = int(rng.choice(np.flatnonzero(~screened)))
        else:
            scores[screened] = -np.inf
            j = int(np.argmax(scores))  # ties: the first in corpus order
        order.append(j)
        screened[j] = True
        found += int(y[j])
    last_include_at = len(order)
    rest = np.flatnonzero(~screened)
    if rest.size:
        idx = np.asarray(order, dtype=np.intp)
        scores = ranker.scores(idx, y[idx])
        rest = rng.permutation(rest) if scores is None else rest[np.lexsort((rest, -scores[rest]))]
        order.extend(int(i) for i in rest)
    after = y[np.asarray(order[len(priors):], dtype=np.intp)].tolist()
    seconds = time.perf_counter() - start
    return SimulationResult(
        order=[records[i].record_id for i in order], priors=[records[i].record_id for i in priors],
        seed=int(seed), records=n, includes=total,
        wss95=_metric(metrics.wss, after, 0.95), recall10=_metric(metrics.recall, after, 0.10),
        recall25=_metric(metrics.recall, after, 0.25), last_include_at=last_include_at,
        seconds=seconds, model=config.describe())
