"""The ranking model: which unscreened record is likeliest to be an include.

A linear support vector machine (scikit-learn's ``LinearSVC``: squared hinge loss, L2 penalty)
on the features of :mod:`.features`, trained on the records labelled so far with class weights
that balance includes against excludes, and retrained from scratch whenever a label arrives. Its
decision value orders the unscreened records (ties by corpus order).

Until an include has been labelled there is nothing to learn from: records come in a seeded
random order. While no exclude has been labelled, a seeded random sample of the unlabelled
records stands in for the excludes (presumed excludes, as in Cormack and Grossman's baseline model
implementation for technology-assisted review).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from .features import FeatureConfig, featurize
from .records import Record, as_records
from .stopping import StoppingEstimate, stopping_estimate

__all__ = ["ModelConfig", "DEFAULT", "Ranker", "Ranking", "rank"]


@dataclass(frozen=True)
class ModelConfig:
    features: FeatureConfig = field(default_factory=FeatureConfig)
    C: float = 0.11  # inverse strength of the L2 penalty
    balance_ratio: float = 9.8  # excludes weigh (n_includes / n_excludes) / ratio each, includes 1
    presumed_excludes: int = 1000  # sample size while no exclude is labelled
    max_iter: int = 1000

    def describe(self) -> str:
        f = self.features
        kw = f" + keyword TF-IDF (weight {f.keyword_weight:g})" if f.keyword_weight else ""
        return (f"linear SVM (squared hinge, C={self.C:g}, balanced class weights ratio {self.balance_ratio:g}) on "
                f"TF-IDF of title and abstract ({f.ngram_range[0]}-{f.ngram_range[1]}-grams, min_df {f.min_df}, "
                f"max_df {f.max_df:g}, sublinear tf){kw}, retrained after every label")


DEFAULT = ModelConfig()


def _balanced_weights(y: np.ndarray, ratio: float) -> np.ndarray:
    n_inc = int(y.sum())
    n_exc = y.size - n_inc
    w = np.where(y == 1, 1.0, n_inc / (ratio * n_exc))
    return w * (y.size / w.sum())


@dataclass(frozen=True)
class Ranking:
    """Unlabelled records, likeliest include first, with the model's scores and the stopping aid."""

    order: list  # record ids
    scores: list[float] | None  # decision values in the order of ``order``; None before the model can learn
    model: str
    includes: int
    excludes: int
    stopping: StoppingEstimate

    def to_dict(self) -> dict:
        d = asdict(self)
        d["stopping"] = self.stopping.to_dict()
        return d


class Ranker:
    """A corpus's features, computed once; :meth:`scores` retrains on the labels given and scores
    every record."""

    def __init__(self, records: Sequence[Record] | Sequence[Mapping], config: ModelConfig = DEFAULT, seed: int = 0):
        self.records = as_records(records)
        self.config = config
        self.seed = int(seed)
        self.index = {r.record_id: i for i, r in enumerate(self.records)}
        self.matrix = featurize(self.records, config.features)

    def __len__(self) -> int:
        return len(self.records)

    def scores(self, labelled: np.ndarray, labels: np.ndarray) -> np.ndarray | None:
        """Decision values of every record after training on rows ``labelled`` with ``labels``
        (0/1); None while no include is labelled."""
        from sklearn import config_context
        from sklearn.svm import LinearSVC

        labelled = np.asarray(labelled, dtype=np.intp)
        labels = np.asarray(labels, dtype=np.int8)
        if not labels.any():
            return None
        if labels.all():
            unlabelled = np.setdiff1d(np.arange(len(self.records)), labelled, assume_unique=True)
            if unlabelled.size == 0:
                return None
            rng = np.random.default_rng([self.seed, labelled.size])
            take = min(self.config.presumed_excludes, unlabelled.size)
            presumed = np.sort(rng.choice(unlabelled, size=take, replace=False))
            labelled = np.concatenate([labelled, presumed])
            labels = np.concatenate([labels, np.zeros(take, dtype=np.int8)])
        if self.matrix.shape[1] == 0:  # no word in any record: nothing to tell the records apart
            return np.zeros(len(self.records))
        x = self.matrix[labelled]
        # liblinear visits the records in a random order: seeded, so that an order is reproducible
        clf = LinearSVC(C=self.config.C, max_iter=self.config.max_iter, random_state=self.seed)
        with config_context(assume_finite=True):  # the features are finite by construction
            clf.fit(x, labels, sample_weight=_balanced_weights(labels, self.config.balance_ratio))
        return self.matrix @ clf.coef_[0] + clf.intercept_[0]

    def rank(self, labels: Mapping[Hashable, int], recall_target: float = 0.95,
             confidence: float = 0.95, candidates: Iterable[Hashable] | None = None) -> Ranking:
        """Rank the records without a label. ``labels`` maps record ids to 1 (include) or 0
        (exclude), in the order the decisions were made (the stopping aid reads that order).

        ``candidates``: rank only these records (none of them labelled) and count only them as
        unscreened in the stopping estimate (its total is the labelled records plus the
        candidates); the other records still shape the features. None: every unlabelled record."""
        rows, values = [], []
        for rid, label in labels.items():
            if rid not in self.index:
                raise KeyError(f"record_id {rid!r} is not among the records")
            if label not in (0, 1):
                raise ValueError(f"the label of {rid!r} is {label!r}; a label is 0 (exclude) or 1 (include)")
            rows.append(self.index[rid])
            values.append(int(label))
        labelled = np.asarray(rows, dtype=np.intp)
        y = np.asarray(values, dtype=np.int8)
        mask = np.ones(len(self.records), dtype=bool)
        mask[labelled] = False
        if candidates is None:
            rest = np.flatnonzero(mask)
            total = len(self.records)
        else:
            picked = []
            for rid in candidates:
                if rid not in self.index:
                    raise KeyError(f"record_id {rid!r} is not among the records")
                picked.append(self.index[rid])
            rest = np.unique(np.asarray(picked, dtype=np.intp))
            if not mask[rest].all():
                rid = self.records[int(rest[~mask[rest]][0])].record_id
                raise ValueError(f"record_id {rid!r} is a candidate and has a label")
            total = labelled.size + rest.size
        scores = self.scores(labelled, y)
        if scores is None:
            rng = np.random.default_rng(self.seed)
            order_rows, order_scores = rng.permutation(rest), None
        else:
            s = scores[rest]
            pick = np.lexsort((rest, -s))  # highest score first, ties in corpus order
            order_rows, order_scores = rest[pick], s[pick].tolist()
        stop = stopping_estimate(y, total, recall_target=recall_target, confidence=confidence)
        records = self.records
        return Ranking(order=[records[i].record_id for i in order_rows.tolist()], scores=order_scores,
                       model=self.config.describe() if scores is not None else
                       "none yet (no include labelled): seeded random order",
                       includes=int(y.sum()), excludes=int(y.size - y.sum()), stopping=stop)


def rank(records, labels: Mapping[Hashable, int], *, config: ModelConfig = DEFAULT, seed: int = 0,
         recall_target: float = 0.95, confidence: float = 0.95) -> Ranking:
    """One retrain-and-rank: the unlabelled ``records`` ordered by the model trained on ``labels``
    (record id -> 0/1, in decision order), with the stopping estimate. For a screening loop, keep
    a :class:`Ranker` (the features are computed once) and call its :meth:`Ranker.rank`."""
    return Ranker(records, config=config, seed=seed).rank(labels, recall_target=recall_target, confidence=confidence)
