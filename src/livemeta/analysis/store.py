"""Storing analysis results in ``history.pooled_estimates`` and reading them back."""

from __future__ import annotations

import datetime as dt
import json
import math

from typing import TYPE_CHECKING

import duckdb

from .. import __version__
from ..db.connection import storage_errors, transaction, unregister
from ..sql import named

if TYPE_CHECKING:  # loaded by the callers that have results (reading stored ones needs neither)
    import pandas as pd

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
    """The sequential-monitoring columns of the overall row (all None when not monitored): the
    latest look at the target, the rule and model that made it (0009), and in ``monitoring_spec``
    every setting with the look that was the final analysis and the result at the pooled CI limit."""
    run = result.monitoring
    if run is None:
        return dict.fromkeys(MONITORING_COLUMNS)
    mon = run.main

    def first_crossed(m):
        return next((c for c in m.crossed if c), "")

    lim = run.at_ci_limit
    spec = {"target": math.exp(mon.target), "alpha": mon.alpha, "power": mon.power, "sided": mon.sided,
            "type_of_design": mon.type_of_design, "futility": mon.futility, "heterogeneity": mon.heterogeneity,
            "adjustment": mon.adjustment, "information": mon.information_kind,
            "required_information": mon.required_information_adjusted, "model": mon.model,
            "overrun": mon.overrun, "alpha_total": _num(mon.alpha_total),
            "final_look": None if mon.overrun_look is None else str(mon.looks[mon.overrun_look]),
            "latest_look": str(mon.looks[-1]),
            "at_ci_limit": None if lim is None else {
                "level": run.ci_level, "target": math.exp(lim.target), "crossed": first_crossed(lim),
                "fraction": _num(float(lim.fraction[-1])), "required_information": lim.required_information_adjusted}}
    return {"monitoring_crossed": first_crossed(mon), "monitoring_z": _num(float(mon.z[-1])),
            "monitoring_bound": _num(float(mon.efficacy_bound[-1])), "monitoring_fraction": _num(float(mon.fraction[-1])),
            "monitoring_spec": json.dumps(spec, sort_keys=True), "monitoring_target": math.exp(mon.target),
            "monitoring_model": mon.model, "monitoring_heterogeneity": mon.heterogeneity,
            "monitoring_overrun": mon.overrun}


MONITORING_COLUMNS = ("monitoring_crossed", "monitoring_z", "monitoring_bound", "monitoring_fraction", "monitoring_spec",
                      "monitoring_target", "monitoring_model", "monitoring_heterogeneity", "monitoring_overrun")


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


_BOOKKEEPING = ("revision_id", "computed_at", "livemeta_version")


def _content(rows: list[dict]) -> dict[str, dict]:
    """A group of rows by stratum, without what records when and where they were computed."""
    return {r["stratum"]: {k: v for k, v in r.items() if k not in _BOOKKEEPING} for r in rows}


def _same(new: list[dict], old: list[dict] | None) -> bool:
    """Whether a freshly computed group equals the one stored (every column the new rows have)."""
    if old is None:
        return False
    a, b = _content(new), _content(old)
    if a.keys() != b.keys():
        return False
    for stratum, row in a.items():
        was = b[stratum]
        for key, value in row.items():
            before = was.get(key)
            if key == "trials":
                value, before = list(value), list(before or [])
            if not (value == before or (value is None and before is None)):
                return False
    return True


class StoredEstimates:
    """The group of rows (overall and strata) last stored for each analysis, as of a revision.

    :meth:`store` writes an analysis's result only when it differs from that group, and the trials
    behind each stratum only where they changed (``history.pooled_trials``), so that what a
    revision stores grows with what it changed, not with the size of the base.
    """

    def __init__(self, groups: dict[str, list[dict]]):
        self.groups = groups

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection, revision: int) -> StoredEstimates:
        """The groups in force at ``revision``, with their trial lists as they were then (to be
        compared with what the next revision computes, read them at the one before it)."""
        cur = con.execute(named("stored_pooled_estimates"), [revision, None])
        cols = [d[0] for d in cur.description]
        groups: dict[str, list[dict]] = {}
        for values in cur.fetchall():
            row = dict(zip(cols, values))
            groups.setdefault(row["analysis_id"], []).append(row)
        return cls(groups)

    def store(self, con: duckdb.DuckDBPyConnection, results: list[AnalysisResult], revision: int,
              *, in_force: int | None = None) -> int:
        """Store, at ``revision``, the results that differ from the last stored group of their
        analysis, inside the caller's transaction. ``in_force``: the number of analyses in force,
        when every one of them was computed at ``revision`` (``results`` may leave out those whose
        input did not change), recorded in ``history.pooled_revisions``. Returns the number of
        analyses stored."""
        rows, opened, closed = [], [], []
        stored = 0
        for result in results:
            new = result_rows(result)
            old = self.groups.get(result.spec.id)
            if _same(new, old):
                continue
            stored += 1
            before = {r["stratum"]: set(r["trials"]) for r in old or []}
            for r in new:
                now = set(r["trials"])
                was = before.pop(r["stratum"], set())
                opened += [(r["analysis_id"], r["stratum"], t) for t in sorted(now - was)]
                closed += [(r["analysis_id"], r["stratum"], t) for t in sorted(was - now)]
            for stratum, was in before.items():  # strata that are gone
                closed += [(result.spec.id, stratum, t) for t in sorted(was)]
            rows += new
            self.groups[result.spec.id] = new
        import pandas as pd

        if rows:
            frame = pd.DataFrame(rows).drop(columns=["trials"]).assign(revision_id=revision)
            con.register("new_pooled_estimates", frame)
            try:
                con.execute(named("store_pooled_estimates"))
            finally:
                unregister(con, "new_pooled_estimates")
        for query, changes in (("pooled_trials_close", closed), ("pooled_trials_open", opened)):
            if changes:
                con.register("pooled_trials_changes", pd.DataFrame(changes, columns=["analysis_id", "stratum", "trial_id"]))
                try:
                    con.execute(named(query), [revision])
                finally:
                    unregister(con, "pooled_trials_changes")
        if in_force is not None:
            con.execute(named("pooled_revision_insert"), [revision, in_force, stored])
        return stored


def write_results(con: duckdb.DuckDBPyConnection, results: list[AnalysisResult]) -> int:
    """Store the results that changed against what is stored before their revision (one revision,
    the newest stored for these analyses), inside the caller's transaction; returns the number of
    analyses stored."""
    if not results:
        return 0
    revision = results[0].revision
    return StoredEstimates.read(con, revision - 1).store(con, results, revision)


def store_results(con: duckdb.DuckDBPyConnection, results: list[AnalysisResult], *, complete: bool = False) -> int:
    """:func:`write_results` in a transaction of its own (``complete``: these are every analysis in
    force at their revision, recorded as such); a full disk says what was not stored."""
    revisions = ", ".join(str(r) for r in sorted({r.revision for r in results}))
    with storage_errors(what=f"the pooled estimates of revision {revisions} were not stored"), transaction(con):
        if not results:
            return 0
        revision = results[0].revision
        return StoredEstimates.read(con, revision - 1).store(con, results, revision,
                                                         in_force=len(results) if complete else None)


def pooled_revisions(con: duckdb.DuckDBPyConnection) -> set[int]:
    """The revisions at which every analysis in force was computed (and stored where it changed)."""
    return {r[0] for r in con.execute(named("pooled_revisions")).fetchall()}


def stored_results(con: duckdb.DuckDBPyConnection, revision: int, ids: list[str]) -> pd.DataFrame:
    """The rows stored for these analyses as of ``revision``: the newest stored at or before it when
    every analysis was computed at ``revision`` (a result is stored when it changes), else (a
    database written before that) only those stored at exactly ``revision``; each with its
    ``trials``."""
    df = con.execute(named("stored_pooled_estimates"), [revision, ids]).df()
    if revision not in pooled_revisions(con):
        df = df[df["revision_id"] == revision].reset_index(drop=True)
    return df


def stored_after(con: duckdb.DuckDBPyConnection, revision: int, ids: list[str]) -> bool:
    """Whether any of these analyses has results stored after ``revision``."""
    return bool(con.execute(named("stored_after"), [revision, ids]).fetchone()[0])


def analyses_at(con: duckdb.DuckDBPyConnection, revision: int):
    """The analyses in force at ``revision``: the analyses file its commit had, as the database keeps
    it. A database written before the history moved to git has none: livemeta's own are used."""
    from ..db import schema_version
    from .spec import Analyses, load_specs

    if schema_version(con) >= 4:
        row = con.execute(named("analysis_file_at"), [revision]).fetchone()
        if row is not None:
            return parse_kept(row[0], revision)
    return Analyses(load_specs(), None)


def analyses_by_revision(con: duckdb.DuckDBPyConnection) -> dict[int, str]:
    """The text of the analyses file in force at each revision, in one query (empty for a database
    written before the history moved to git)."""
    from ..db import schema_version

    return dict(con.execute(named("analysis_files_by_revision")).fetchall()) if schema_version(con) >= 4 else {}


def parse_kept(text: str, revision: int, parsed: dict | None = None):
    """The analyses file ``text`` (in force at ``revision``) parsed, kept in ``parsed`` by text."""
    from .spec import parse_analyses

    if parsed is None:
        return parse_analyses(text, f"the analyses file of revision {revision}")
    if text not in parsed:
        parsed[text] = parse_analyses(text, f"the analyses file of revision {revision}")
    return parsed[text]
