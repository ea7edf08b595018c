"""Sequential monitoring (trial sequential analysis) of an analysis (``livemeta monitor``, the report).

Each look is a first-publication date of the analysis's trials: the cumulative meta-analysis of
every trial published by then (the analysis's own model for z), its accrued information and the
Lan-DeMets boundaries at the cumulative information fraction (``livemeta.pooling.sequential``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import LivemetaError
from ..pooling.sequential import Monitoring, monitor

if TYPE_CHECKING:  # annotations only: run.py computes a result's monitoring with this module
    from .run import AnalysisResult

#: the defaults of ``livemeta monitor`` and of the report's monitoring section
DEFAULTS = dict(alpha=0.05, power=0.8, sided=2, heterogeneity="D2", information="inverse_variance",
                type_of_design="asOF", futility="none")


@dataclass(frozen=True)
class MonitoringSettings:
    """What a monitoring run assumes (all shown with its result)."""

    target: float  # on the ratio scale, e.g. HR 0.80
    alpha: float = 0.05
    power: float = 0.8
    sided: int = 2
    heterogeneity: str | float = "D2"
    information: str = "inverse_variance"
    type_of_design: str = "asOF"
    futility: str = "none"


def monitor_result(result: AnalysisResult, settings: MonitoringSettings) -> Monitoring:
    """Trial sequential analysis of one computed analysis (its studies, model and scale)."""
    spec = result.spec
    if spec.measure == "proportion":
        raise LivemetaError(f"analysis {spec.id}: sequential monitoring needs a comparison (HR, OR or RR), "
                            "not a single-arm proportion")
    if not (settings.target > 0 and math.isfinite(settings.target)) or settings.target == 1:
        raise LivemetaError(f"the target ratio must be a positive number other than 1, got {settings.target!r}")
    studies = result.studies
    if studies.empty:
        raise LivemetaError(f"analysis {spec.id}: no study has data at revision {result.revision}")
    looks = np.array(look_labels(studies), dtype=object)
    events = None
    if settings.information == "events":
        if "events" not in studies or studies["events"].isna().any():
            missing = ", ".join(studies.loc[studies.get("events", pd.Series(np.nan, index=studies.index)).isna(),
                                            "trial_id"].astype(str)) if len(studies) else ""
            raise LivemetaError(f"analysis {spec.id}: information by events needs the number of events of every "
                                f"trial; missing for {missing}", hint="use the default information (sum of 1/vi)")
        events = studies["events"].to_numpy(float)
    try:
        mon = monitor(studies["yi"].to_numpy(float), studies["vi"].to_numpy(float), looks,
                      target=math.log(settings.target), alpha=settings.alpha, power=settings.power,
                      sided=settings.sided, method=spec.method, heterogeneity=settings.heterogeneity,
                      information=settings.information, events=events, type_of_design=settings.type_of_design,
                      futility=settings.futility)
    except ValueError as exc:
        raise LivemetaError(f"analysis {spec.id}: {exc}") from None
    return mon


def look_labels(studies: pd.DataFrame) -> list[str]:
    """The look at which each study entered: its first publication as printed (YYYY, YYYY-MM or
    YYYY-MM-DD, which sort in time order), ``undated`` (last) when unknown."""
    if "first_published" not in studies:
        return ["undated"] * len(studies)
    return [str(v) if isinstance(v, str) and v else "undated" for v in studies["first_published"]]


def monitoring_table(result: AnalysisResult, mon: Monitoring) -> pd.DataFrame:
    """One row per look: publication, trials added, k, information, fraction, pooled ratio, z,
    boundaries, alpha spent and the boundary crossed."""
    studies = result.studies
    labels = np.array(look_labels(studies), dtype=object)
    added = [", ".join(studies.loc[labels == look, "label"].astype(str)) for look in mon.looks]
    frame = mon.to_frame()
    frame.insert(1, "trials_added", added)
    frame["estimate"] = np.exp(frame["estimate"])
    frame = frame.rename(columns={"estimate": "ratio"})
    return frame.drop(columns=["se"])
