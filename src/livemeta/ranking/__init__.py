"""Screening prioritisation: a ranking model that puts likely includes first, the stopping aid, and
the simulation that measures them. Pure: records and labels in, an order out; no database, no files
(except :mod:`.dataset`, which reads a labelled CSV).

    rank(records, labels)                  -> Ranking (order, scores, stopping estimate)
    Ranker(records).rank(labels)           -> the same, the features computed once (a screening loop)
    stopping_estimate(labels, total)       -> StoppingEstimate (Callaghan & Müller-Hansen 2020)
    simulate(records, labels, prior_ids)   -> SimulationResult (order, WSS@95, recall@10%/25%)
    metrics.wss(labels, 0.95), metrics.recall(labels, 0.10)   ASReview Insights' definitions

``records`` are :class:`Record` objects or mappings with ``record_id``, ``title``, ``abstract`` and
optional ``keywords``; ``labels`` map record ids to 1 (include) or 0 (exclude) in decision order.
scikit-learn is imported when a model is built, not with this package.
"""

from __future__ import annotations

from .records import Record, as_records, split_keywords
from .stopping import StoppingEstimate, h0_p_value, stopping_estimate

__all__ = ["Record", "as_records", "split_keywords", "StoppingEstimate", "h0_p_value", "stopping_estimate",
           "rank", "Ranker", "Ranking", "ModelConfig", "simulate", "SimulationResult"]


def __getattr__(name):  # the model and simulation pull in scikit-learn: import them when asked
    if name in ("rank", "Ranker", "Ranking", "ModelConfig"):
        from . import model

        return getattr(model, name)
    if name in ("simulate", "SimulationResult"):
        from . import simulation as sim

        return getattr(sim, name)
    raise AttributeError(name)
