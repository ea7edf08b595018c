"""Cumulative meta-analysis by first publication date (``livemeta cumulative`` and the report)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from ..analysis import AnalysisResult, AnalysisSpec, run_analysis
from ..analysis.studies import study_table
from ..pooling import back_transform
from ..pooling.sensitivity import cumulative
from ..words import count

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
    ci_high (natural scale), p, tau2, i2. The first step (one study) shows the study's estimate and
    interval as the forest plot does (:func:`~livemeta.analysis.studies.study_table`: as printed
    when the printed CI is what was pooled, else implied by the pooled variance).
    """
    studies, spec = result.studies, result.spec
    if studies.empty:
        return pd.DataFrame(columns=COLUMNS)
    if spec.method == "GLMM":
        res = _cumulative_glmm(studies, spec)
    else:
        res = cumulative(studies["yi"].to_numpy(float), studies["vi"].to_numpy(float), np.arange(len(studies)),
                         method=spec.method, test=spec.test, level=spec.level, scale=spec.scale)
    added = np.asarray(res.index, dtype=int)
    if "first_published" in studies:
        year = studies["first_published"].to_numpy()[added]
    elif "first_publication_date" in studies:
        year = pd.to_datetime(studies["first_publication_date"]).dt.year.to_numpy()[added]
    else:
        year = [None] * len(added)
    est, lo, hi = (back_transform(np.asarray(a, float), scale=spec.scale) for a in (res.estimate, res.ci_low, res.ci_high))
    if len(added):  # one study: its estimate and interval as every output shows it (study_table)
        first = study_table(result).iloc[int(added[0])]
        est[0], lo[0], hi[0] = float(first["estimate"]), float(first["ci_low"]), float(first["ci_high"])
    return pd.DataFrame({
        "step": np.arange(1, len(added) + 1),
        "trial_id": studies["trial_id"].to_numpy()[added],
        "label": studies["label"].to_numpy()[added],
        "first_published": year,
        "k": np.arange(1, len(added) + 1),
        "estimate": est,
        "ci_low": lo,
        "ci_high": hi,
        "p": np.asarray(res.p, float),
        "tau2": np.asarray(res.tau2, float),
        "i2": np.asarray(res.i2, float),
    })[COLUMNS]


def _cumulative_glmm(studies: pd.DataFrame, spec):
    """The steps of a cumulative GLMM (one fit of the counts per step, in the order of the rows);
    the first step, one study, is the study itself with its exact interval (a GLMM needs two)."""
    from types import SimpleNamespace

    from ..pooling.effects import proportion_ci_exact
    from ..pooling.glmm import pool_glmm

    x, n = studies["xi"].to_numpy(float), studies["ni"].to_numpy(float)
    fits = [pool_glmm(x[: s + 1], n[: s + 1], level=spec.level) for s in range(len(x))]
    cols = {k: np.array([getattr(f, k) for f in fits], float) for k in ("estimate", "ci_low", "ci_high", "p", "tau2", "i2")}
    lo, hi = proportion_ci_exact(x[:1], n[:1], spec.level)
    with np.errstate(divide="ignore"):
        cols["estimate"][0], cols["ci_low"][0], cols["ci_high"][0] = np.log(
            np.array([x[0] / n[0], lo[0], hi[0]]) / (1 - np.array([x[0] / n[0], lo[0], hi[0]])))
    return SimpleNamespace(index=np.arange(len(x)), **cols)


def rounded(table: pd.DataFrame, measure: str, method: str | None = None) -> pd.DataFrame:
    """The cumulative table as a reader sees it: ratios to two decimals (proportions in percent to
    one), p to three (below 0.001 as '< 0.001'), tau² to four decimals (a fixed-effect ``method``
    has none, and says so), I² in whole percent."""
    from ..living.diff import FIXED_EFFECT, NO_TAU2, PRINTED

    def ratio(v):
        if v is None or v != v:
            return ""
        return f"{100 * v:.1f}%" if measure == "proportion" else PRINTED["estimate"].format(v)

    def p(v):
        return "" if v is None or v != v else "< 0.001" if v < 0.001 else f"{v:.3f}"

    out = table.copy()
    for col in ("estimate", "ci_low", "ci_high"):
        out[col] = [ratio(v) for v in table[col]]
    out["p"] = [p(v) for v in table["p"]]
    out["tau2"] = [NO_TAU2 if method == FIXED_EFFECT else "" if v != v else PRINTED["tau2"].format(v)
                   for v in table["tau2"]]
    out["i2"] = ["" if v != v else PRINTED["i2"].format(v) + "%" for v in table["i2"]]
    out["first_published"] = ["" if v is None or v != v else str(v) for v in table["first_published"]]
    return out


def cumulative_by_year(result: AnalysisResult) -> pd.DataFrame:
    """Cumulative meta-analysis by publication year: one row per year, pooling every trial
    published up to the end of it (label '+ 12 trials (2024)'); the columns of
    :func:`cumulative_rows`. For analyses with more trials than a plot has rows."""
    from ..pooling import pool

    studies, spec = result.studies, result.spec
    if studies.empty:
        return pd.DataFrame(columns=COLUMNS)
    if "first_published" in studies:
        year = studies["first_published"].to_numpy()
    else:
        year = pd.to_datetime(studies["first_publication_date"]).dt.year.to_numpy()
    yi, vi = studies["yi"].to_numpy(float), studies["vi"].to_numpy(float)
    ends = [i for i in range(len(year)) if i == len(year) - 1 or year[i + 1] != year[i]]
    rows, prev = [], 0
    for step, end in enumerate(ends, start=1):
        if spec.method == "GLMM":
            from ..pooling.glmm import pool_glmm

            r = pool_glmm(studies["xi"].to_numpy(float)[: end + 1], studies["ni"].to_numpy(float)[: end + 1],
                          level=spec.level)
        else:
            r = pool(yi[: end + 1], vi[: end + 1], method=spec.method, test=spec.test, level=spec.level,
                     scale=spec.scale)
        n = end + 1 - prev
        y = year[end]
        rows.append({"step": step, "trial_id": studies["trial_id"].iloc[end],
                     "label": f"+ {count(n, 'trial')} ({y if y == y else 'date unknown'})",
                     "first_published": y, "k": end + 1,
                     **{k: float(back_transform(getattr(r, k), scale=spec.scale)) for k in ("estimate", "ci_low", "ci_high")},
                     "p": r.p, "tau2": r.tau2, "i2": r.i2})
        prev = end + 1
    return pd.DataFrame(rows)[COLUMNS]
