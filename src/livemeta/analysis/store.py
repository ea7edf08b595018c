"""Storing analysis results in ``history.pooled_estimates`` and reading them back."""

from __future__ import annotations

import datetime as dt
import json
import math

import duckdb
import pandas as pd

from .. import __version__
from ..db.connection import storage_errors, transaction, unregister
from ..sql import named
from ..pooling import PoolResult
from .run import AnalysisResult

_STATS = ("estimate", "se", "stat", "p", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "h2", "q", "q_df", "q_p")


def _num(x):
    if x is None:
        return None
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _row(result: AnalysisResult, stratum: str, r: PoolResult | None, trials: list[str], now: dt.datetime) -> dict:
    spec = result.spec
    row = {
        "analysis_id": spec.id,
        "revision_id": result.revision,
        "stratum": stratum,
        "computed_at": now,
        "livemeta_version": __version__,
        "view_name": spec.view,
        "measure": spec.measure,
        "scale": spec.scale,
        "method": spec.method,
        "test": spec.test,
        "level": spec.level,
        "pi_dist": r.pi_dist if r is not None else None,
        "zero_cell_rule": spec.zero_cell_rule,
        "ci_level_choice": spec.ci_level if spec.measure == "HR" else None,
        "method_spec": spec.method_spec(),
        "k": r.k if r is not None else 0,
        "trials": trials,
        "converged": bool(r.converged) if r is not None else False,
        "message": (r.message or None) if r is not None else (result.note or "no studies with data"),
        "q_between": None,
        "df_between": None,
        "p_between": None,
    }
    for s in _STATS:
        row[s] = _num(getattr(r, s)) if r is not None else None
    if row["q_df"] is not None:
        row["q_df"] = int(row["q_df"])
    return row


def monitoring_columns(result: AnalysisResult) -> dict:
    """The sequential-monitoring columns of the overall row (all None when not monitored)."""
    mon = result.monitoring
    if mon is None:
        return dict.fromkeys(MONITORING_COLUMNS)
    first = next((c for c in mon.crossed if c), "")
    spec = {"target": math.exp(mon.target), "alpha": mon.alpha, "power": mon.power, "sided": mon.sided,
            "type_of_design": mon.type_of_design, "futility": mon.futility, "heterogeneity": mon.heterogeneity,
            "adjustment": mon.adjustment, "information": mon.information_kind,
            "required_information": mon.required_information_adjusted, "model": mon.method,
            "latest_look": str(mon.looks[-1])}
    return {"monitoring_crossed": first, "monitoring_z": _num(float(mon.z[-1])),
            "monitoring_bound": _num(float(mon.efficacy_bound[-1])), "monitoring_fraction": _num(float(mon.fraction[-1])),
            "monitoring_spec": json.dumps(spec, sort_keys=True)}


MONITORING_COLUMNS = ("monitoring_crossed", "monitoring_z", "monitoring_bound", "monitoring_fraction", "monitoring_spec")


def result_rows(result: AnalysisResult) -> list[dict]:
    """One row for the overall pool and one per subgroup, shaped like ``history.pooled_estimates``."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = [_row(result, "overall", result.overall, result.trials, now) | monitoring_columns(result)]
    sg = result.subgroups
    if sg is not None:
        rows[0].update(q_between=_num(sg.q_between), df_between=int(sg.q_between_df), p_between=_num(sg.q_between_p))
        column = result.spec.subgroup
        groups = result.studies[column].fillna("(none)").astype(str)
        for name in sg.groups:
            trials = list(dict.fromkeys(result.studies.loc[groups == name, "trial_id"]))
            rows.append(_row(result, str(name), sg.subgroups[name], trials, now) | dict.fromkeys(MONITORING_COLUMNS))
    return rows


def write_results(con: duckdb.DuckDBPyConnection, results: list[AnalysisResult]) -> int:
    """Replace the stored rows of these analyses at their revisions, inside the caller's
    transaction; returns rows written."""
    rows = [row for r in results for row in result_rows(r)]
    if not rows:
        return 0
    con.register("new_pooled_estimates", pd.DataFrame(rows))
    try:
        con.execute(named("store_pooled_estimates"))
    finally:
        unregister(con, "new_pooled_estimates")
    return len(rows)


def store_results(con: duckdb.DuckDBPyConnection, results: list[AnalysisResult]) -> int:
    """:func:`write_results` in a transaction of its own; a full disk says what was not stored."""
    revisions = ", ".join(str(r) for r in sorted({r.revision for r in results}))
    with storage_errors(what=f"the pooled estimates of revision {revisions} were not stored"), transaction(con):
        return write_results(con, results)


def stored_results(con: duckdb.DuckDBPyConnection, revision: int, ids: list[str]) -> pd.DataFrame:
    """The rows stored for these analyses at exactly ``revision``."""
    return con.execute(named("stored_pooled_estimates"), [revision, ids]).df()


def analyses_at(con: duckdb.DuckDBPyConnection, revision: int):
    """The analyses in force at ``revision``: the analyses file its commit had, as the database keeps
    it. A database written before the history moved to git has none: livemeta's own are used."""
    from ..db import schema_version
    from .spec import Analyses, load_specs, parse_analyses

    if schema_version(con) >= 4:
        row = con.execute(named("analysis_file_at"), [revision]).fetchone()
        if row is not None:
            return parse_analyses(row[0], f"the analyses file of revision {revision}")
    return Analyses(load_specs(), None)
