"""Cumulative meta-analysis by first publication date (``livemeta cumulative``)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from ..analysis import AnalysisSpec, run_analysis
from ..analysis.spec import natural
from ..pooling.sensitivity import cumulative


def cumulative_table(con: duckdb.DuckDBPyConnection, spec: AnalysisSpec, revision: int) -> pd.DataFrame:
    """One row per step: the trial added, its first publication, and the pooled estimate so far.

    Trials are added by ``first_publication_date``; ties (and missing dates, last) keep the order
    of trial id, so the table is stable. Estimates are on the ratio scale (HR/OR/RR), or as
    proportions for single-arm analyses. The estimator, CI test and level are the analysis's own.
    """
    result = run_analysis(con, spec, revision)
    studies = result.studies
    columns = ["step", "trial_id", "label", "first_published", "k", "estimate", "ci_low", "ci_high", "p", "tau2", "i2"]
    if studies.empty:
        return pd.DataFrame(columns=columns)
    # run_analysis already sorts by first_publication_date, trial_id, label (stable)
    res = cumulative(studies["yi"].to_numpy(float), studies["vi"].to_numpy(float), np.arange(len(studies)),
                     method=spec.method, test=spec.test, level=spec.level, scale=spec.scale)
    frame = res.to_frame()
    added = frame["added"].to_numpy(int)
    out = pd.DataFrame(
        {
            "step": frame["step"].to_numpy(int) + 1,
            "trial_id": studies["trial_id"].to_numpy()[added],
            "label": studies["label"].to_numpy()[added],
            "first_published": studies["first_published"].to_numpy()[added] if "first_published" in studies else None,
            "k": frame["k"].to_numpy(int),
            "estimate": natural(frame["estimate"].to_numpy(float), spec.scale),
            "ci_low": natural(frame["ci_low"].to_numpy(float), spec.scale),
            "ci_high": natural(frame["ci_high"].to_numpy(float), spec.scale),
            "p": frame["p"].to_numpy(float),
            "tau2": frame["tau2"].to_numpy(float),
            "i2": frame["i2"].to_numpy(float),
        }
    )
    return out[columns]
