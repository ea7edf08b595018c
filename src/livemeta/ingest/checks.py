"""Checks of a batch against the database (its current state: ``history.*`` rows with valid_to NULL).

- a trial already in the database is refused unless ``supersede`` is set;
- ``supersede`` for a trial that is not in the database is refused;
- an NCT id held by another current trial is refused;
- a supersede that changes nothing (the file's rows equal the current version's rows, whatever
  the file's formatting or comments) is refused as "no change".

A trial twice in one batch, or one NCT id on two trials of a batch, is caught by the ``trials``
expectation suite before this step.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from ..errors import Problem
from ..paths import resource
from .frames import TABLES, Batch, columns


def sql(name: str, **parts: str) -> str:
    """A statement of ``queries/ingest/<name>.sql``, with ``{table}``/``{frame}`` filled in."""
    text = resource("queries", "ingest", f"{name}.sql").read_text(encoding="utf-8")
    return text.format(**parts) if parts else text


@dataclass
class Plan:
    """What a batch would do: per trial 'added' or 'superseded', and the revision it replaces."""

    actions: dict[str, str] = field(default_factory=dict)
    replaces: dict[str, int] = field(default_factory=dict)

    @property
    def added(self) -> list[str]:
        return [t for t, a in self.actions.items() if a == "added"]

    @property
    def superseded(self) -> list[str]:
        return [t for t, a in self.actions.items() if a == "superseded"]


def _has_history(con: duckdb.DuckDBPyConnection) -> bool:
    from ..db import schema_version

    return schema_version(con) > 0


def _norm(v):
    """A value from a frame or from DuckDB in one canonical form, for comparing versions."""
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, (list, tuple, np.ndarray)):
        return tuple(_norm(x) for x in v)
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return float(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else float(v)
    if isinstance(v, (pd.Timestamp, dt.datetime, dt.date)):
        return v.isoformat()[:10]
    return str(v)


def _fingerprint(rows_by_table: dict[str, list[tuple]]) -> str:
    h = hashlib.sha256()
    for table in TABLES:
        rows = sorted(repr(tuple(_norm(v) for v in row)) for row in rows_by_table.get(table, []))
        h.update(f"{table}:{len(rows)}\n".encode())
        for r in rows:
            h.update(r.encode())
            h.update(b"\n")
    return h.hexdigest()


def _current_fingerprints(con, trial_ids: list[str]) -> dict[str, str]:
    per_trial: dict[str, dict[str, list[tuple]]] = {t: {} for t in trial_ids}
    for table in TABLES:
        cur = con.execute(sql("current_rows", table=table), {"trial_ids": trial_ids})
        names = [d[0] for d in cur.description]
        order = [names.index(c) for c in columns(table)]
        tcol = names.index("trial_id")
        for row in cur.fetchall():
            per_trial[row[tcol]].setdefault(table, []).append(tuple(row[i] for i in order))
    return {t: _fingerprint(rows) for t, rows in per_trial.items()}


def _batch_fingerprints(batch: Batch, trial_ids: list[str]) -> dict[str, str]:
    wanted = set(trial_ids)
    per_trial: dict[str, dict[str, list[tuple]]] = {t: {} for t in trial_ids}
    for table in TABLES:
        df = batch.db_frame(table)
        df = df[df["trial_id"].isin(wanted)]
        for row in df.itertuples(index=False, name=None):
            per_trial[row[0]].setdefault(table, []).append(row)
    return {t: _fingerprint(rows) for t, rows in per_trial.items()}


def check_against_db(con: duckdb.DuckDBPyConnection, batch: Batch, *, supersede: bool) -> tuple[list[Problem], Plan]:
    current: dict[str, tuple[str | None, int]] = {}
    if _has_history(con):
        current = {tid: (nct, rev) for tid, nct, rev in con.execute(sql("current_trials")).fetchall()}
    nct_owner = {nct: tid for tid, (nct, _) in current.items() if nct}

    problems: list[Problem] = []
    plan = Plan()
    trials = batch.frames["trials"]
    rows = list(zip(trials["_study"], trials["trial_id"], trials["nct_id"]))
    for i, tid, nct in rows:
        study = batch.studies[i]
        if tid in current:
            rev = current[tid][1]
            if not supersede:
                problems.append(
                    study.problem(
                        "trial.id",
                        f"trial {tid!r} is already in the database (revision {rev}); "
                        "pass --supersede to replace it with this file",
                    )
                )
            else:
                plan.actions[tid] = "superseded"
                plan.replaces[tid] = rev
        elif supersede:
            problems.append(
                study.problem(
                    "trial.id",
                    f"--supersede was given but trial {tid!r} is not in the database; "
                    "add it without --supersede",
                )
            )
        else:
            plan.actions[tid] = "added"
        nct = nct if isinstance(nct, str) else None
        if nct and nct_owner.get(nct, tid) != tid:
            problems.append(
                study.problem("trial.nct_id", f"{nct} is already the NCT id of trial {nct_owner[nct]!r} in the database")
            )

    if plan.superseded:
        old = _current_fingerprints(con, plan.superseded)
        new = _batch_fingerprints(batch, plan.superseded)
        for i, tid, _ in rows:
            if tid in old and old[tid] == new[tid]:
                problems.append(
                    batch.studies[i].problem(
                        "trial.id",
                        f"no change: the file's content equals the current version of trial {tid!r} "
                        f"(revision {plan.replaces[tid]}); nothing to supersede",
                    )
                )
    return problems, plan
