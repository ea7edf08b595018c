"""Cumulative meta-analysis by first publication date (``livemeta cumulative`` and the report)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from ..analysis import AnalysisResult, AnalysisSpec, run_analysis
from ..pooling import back_transform
from ..pooling.sensitivity import cumulative

COLUMNS = ["step", "trial_id", "label", "first_published", "k", "estimate", "ci_low", "ci_high", "p", "tau2", "i2"]


def cumulative_table(con: duckdb.DuckDBPyConnection, spec: AnalysisSpec, revision: int) -> pd.DataFrame:
    """One row per step: the trial added, its first publication, and the pooled estimate so far.

    Trials are added by ``first_publication_date``; ties (and missing dates, last) keep the order
    of trial id, so the table is stable. Estimates are on the ratio scale (HR/OR/RR), or as
    proportions for single-arm analyses. The estimator, CI test and level are the analysis's own.
    """
    from dataclasses import replace

    return cumulative_rows(run_analysis(con, replace(spec, monitoring=None), revision))  # (no monitoring needed)


def cumulative_rows(result: AnalysisResult) -> pd.DataFrame:
    """Cumulative meta-analysis of one computed result, without the database.

    Studies are added in the order of ``result.studies`` (:func:`run_analysis` sorts them by
    ``first_publication_date``, then trial id and label, stably), pooled with the analysis's own
    method, test, level and scale. Columns: step, trial_id, label, first_published (the column of
    that name, else the year of ``first_publication_date``, else empty), k, estimate, ci_low,
    ci_high (natural scale), p, tau2, i2.
    """
    studies, spec = result.studies, result.spec
    if studies.empty:
        return pd.DataFrame(columns=COLUMNS)
    res = cumulative(studies["yi"].to_numpy(float), studies["vi"].to_numpy(float), np.arange(len(studies)),
                     method=spec.method, test=spec.test, level=spec.level, scale=spec.scale)
    frame = res.to_frame()
    added = frame["added"].to_numpy(int)
    if "first_published" in studies:
        year = studies["first_published"].to_numpy()[added]
    elif "first_publication_date" in studies:
        year = pd.to_datetime(studies["first_publication_date"]).dt.year.to_numpy()[added]
    else:
        year = [None] * len(added)
    return pd.DataFrame({
        "step": frame["step"].to_numpy(int) + 1,
        "trial_id": studies["trial_id"].to_numpy()[added],
        "label": studies["label"].to_numpy()[added],
        "first_published": year,
        "k": frame["k"].to_numpy(int),
        "estimate": back_transform(frame["estimate"].to_numpy(float), scale=spec.scale),
        "ci_low": back_transform(frame["ci_low"].to_numpy(float), scale=spec.scale),
        "ci_high": back_transform(frame["ci_high"].to_numpy(float), scale=spec.scale),
        "p": frame["p"].to_numpy(float),
        "tau2": frame["tau2"].to_numpy(float),
        "i2": frame["i2"].to_numpy(float),
    })[COLUMNS]
