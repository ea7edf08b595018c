"""Checks of a batch against the database (its current state: ``history.*`` rows with valid_to NULL).

How each trial of the batch relates to the database (``mode``):

- ``add`` (an ingest without ``--supersede``): a trial already in the database is refused;
- ``supersede``: a trial that is not in the database is refused, and so is a file whose rows equal
  the current version's rows whatever its formatting or comments ("no change");
- ``auto`` (replaying the git history): a trial in the database is superseded, one that is not is
  added, and a file whose rows did not change is left out.

In every mode, one trial is one trial: an identifier of the batch's trial that belongs to another
trial of the database (the NCT id or another registry id, a source's DOI, PMID, NCT id or the one
its URL carries, or the same trial name once case, spaces, punctuation and look-alike characters are
set aside) is refused with that trial named. Identifiers are compared in the canonical form of
:mod:`.identifiers` (NFKC, no invisible characters, DOI lower-case, PMID as an integer, ...).
A companion publication of a trial is a source of that trial, not a new trial.

A trial twice in one batch is caught by the ``trials`` expectation suite; the identifiers of the
trials of one batch are compared with each other by :func:`identity_problems` before this step.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from ..errors import Problem, excerpt
from ..paths import resource
from .frames import TABLES, Batch, columns
from .identifiers import Claim, source_claims, trial_claims


def sql(name: str, **parts: str) -> str:
    """A statement of ``queries/ingest/<name>.sql``, with ``{table}``/``{frame}`` filled in."""
    text = resource("queries", "ingest", f"{name}.sql").read_text(encoding="utf-8")
    return text.format(**parts) if parts else text


@dataclass
class Plan:
    """What a batch would do: per trial 'added', 'superseded', 'removed' or (replay only)
    'unchanged', and the revision whose version it replaces."""

    actions: dict[str, str] = field(default_factory=dict)
    replaces: dict[str, int] = field(default_factory=dict)

    @property
    def added(self) -> list[str]:
        return [t for t, a in self.actions.items() if a == "added"]

    @property
    def superseded(self) -> list[str]:
        return [t for t, a in self.actions.items() if a == "superseded"]

    @property
    def removed(self) -> list[str]:
        return [t for t, a in self.actions.items() if a == "removed"]

    @property
    def written(self) -> list[str]:
        """The trials whose rows this plan inserts (added or superseded)."""
        return [t for t, a in self.actions.items() if a in ("added", "superseded")]


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


def _identities(trials: pd.DataFrame, sources: pd.DataFrame) -> list[Claim]:
    """Every identifier the trials claim, in the canonical form it is compared by
    (:mod:`.identifiers`): the NCT id and other registry ids, the name, and each source's DOI, PMID,
    NCT id and URL."""
    out: list[Claim] = []
    for row in trials.to_dict("records"):
        out += trial_claims(row, row["trial_id"], row.get("_path", "trial"))
    for row in sources.to_dict("records"):
        out += source_claims(row, row["trial_id"], row.get("_path", "sources"))
    return out


_SAME = {"NCT id": "the NCT id", "registry id": "the registry id", "DOI": "the DOI", "PMID": "the PMID"}


class Identities:
    """The identifiers the current trials of a database hold, kept up to date as batches are
    written (a replay reads them once, not at every revision): (kind, key) -> (trial, value as
    written there), in the order the database has them."""

    def __init__(self, con):
        self.holders: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.of: dict[str, list[tuple[str, str]]] = {}
        if _has_history(con):
            cur_trials = con.execute(sql("all_current_rows", table="trials")).df()
            cur_sources = con.execute(sql("all_current_rows", table="sources")).df()
            self._add(_identities(cur_trials, cur_sources))

    def _add(self, found: list[Claim]) -> None:
        for c in found:
            self.holders.setdefault((c.kind, c.key), []).append((c.trial_id, c.shown))
            self.of.setdefault(c.trial_id, []).append((c.kind, c.key))

    def owner(self, key: tuple[str, str], replaced: set[str]) -> tuple[str, str] | None:
        return next((h for h in self.holders.get(key, ()) if h[0] not in replaced), None)

    def written(self, batch: Batch | None, plan: Plan) -> None:
        """The database now holds what ``plan`` wrote of ``batch``."""
        for tid in [*plan.superseded, *plan.removed]:
            for key in self.of.pop(tid, ()):
                self.holders[key] = [h for h in self.holders.get(key, []) if h[0] != tid]
        if batch is not None and plan.written:
            wanted = set(plan.written)
            trials, sources = batch.frames["trials"], batch.frames["sources"]
            self._add(_identities(trials[trials["trial_id"].isin(wanted)], sources[sources["trial_id"].isin(wanted)]))


def identity_problems(con, batch: Batch, replaced: set[str], known: Identities | None = None) -> list[Problem]:
    """An identifier of a batch trial that another trial holds: in the database when ``con`` is
    given (``replaced``: trials whose current rows the batch replaces or removes, whose own
    identifiers do not count; ``known``: the database's identifiers, when the caller keeps them),
    else within the batch."""
    mine = _identities(batch.frames["trials"], batch.frames["sources"])
    owners: dict[tuple[str, str], tuple[str, str]] = {}
    where = "in this batch"
    if con is None:
        for c in mine:
            owners.setdefault((c.kind, c.key), (c.trial_id, c.shown))
    elif _has_history(con):
        where = "in the database"
        known = known or Identities(con)
        for c in mine:
            other = known.owner((c.kind, c.key), replaced)
            if other is not None:
                owners.setdefault((c.kind, c.key), other)
    study_of = dict(zip(batch.frames["trials"]["trial_id"], batch.frames["trials"]["_study"]))
    problems, seen = [], set()
    for c in mine:
        other = owners.get((c.kind, c.key))
        if other is None or other[0] == c.trial_id or (c.trial_id, c.kind, c.key) in seen:
            continue
        seen.add((c.trial_id, c.kind, c.key))
        holder, theirs = other
        if (c.trial_id, c.path, holder) in seen:  # a name's second key, or a URL's second identifier
            continue
        seen.add((c.trial_id, c.path, holder))
        hint = (
            "; a companion publication of a trial is one more source of that trial, not a new trial"
            if c.kind in ("DOI", "PMID") else "; one trial is one trial: correct that trial's file instead"
        )
        if c.kind == "name":
            what = "the same name (ignoring case, spaces, punctuation and look-alike characters)"
            if theirs != c.written:
                what += f": {theirs!r}"
        else:
            what = f"{_SAME[c.kind]} {theirs!r}"
            if theirs != c.written:
                what += f" (the same {c.kind} as {excerpt(c.written, 80)} here)"
        problems.append(batch.studies[int(study_of[c.trial_id])].problem(c.path, f"trial {holder!r} {where} already has {what}{hint}"))
    return problems


def check_against_db(
    con: duckdb.DuckDBPyConnection, batch: Batch | None, *, supersede: bool | None, removed: tuple[str, ...] = (),
    known: Identities | None = None,
) -> tuple[list[Problem], Plan]:
    """Problems of the batch against the database, and the plan: which trials it adds, supersedes
    or (``removed``: trials whose study file was deleted) removes.

    ``supersede``: False (mode ``add``), True (``supersede``) or None (``auto``, see the module).
    ``known``: the database's identifiers (:class:`Identities`), when the caller keeps them.
    """
    plan = Plan()
    in_batch = set(batch.frames["trials"]["trial_id"]) if batch is not None else set()
    for tid in removed:
        if tid not in in_batch:
            plan.actions[tid] = "removed"
    if batch is None:
        return [], plan
    current: dict[str, tuple[str | None, int]] = {}
    if _has_history(con):
        current = {tid: (nct, rev) for tid, nct, rev in con.execute(sql("current_trials")).fetchall()}

    problems: list[Problem] = []
    trials = batch.frames["trials"]
    rows = list(zip(trials["_study"], trials["trial_id"]))
    for i, tid in rows:
        study = batch.studies[i]
        if tid in current:
            rev = current[tid][1]
            if supersede is False:
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
        elif supersede is True:
            problems.append(
                study.problem(
                    "trial.id",
                    f"--supersede was given but trial {tid!r} is not in the database; "
                    "add it without --supersede",
                )
            )
        else:
            plan.actions[tid] = "added"

    if plan.superseded:
        old = _current_fingerprints(con, plan.superseded)
        new = _batch_fingerprints(batch, plan.superseded)
        for i, tid in rows:
            if tid in old and old[tid] == new[tid]:
                if supersede is None:
                    plan.actions[tid] = "unchanged"
                    continue
                problems.append(
                    batch.studies[i].problem(
                        "trial.id",
                        f"no change: the file's content equals the current version of trial {tid!r} "
                        f"(revision {plan.replaces[tid]}); nothing to supersede",
                    )
                )
    problems += identity_problems(con, batch, set(plan.superseded) | set(plan.removed), known)
    return problems, plan


def held_elsewhere(batch: Batch | None, holders: dict[str, str], name_of, alive) -> list[Problem]:
    """One trial, one study file: a batch file for a trial whose current version another study
    file holds (``holders``: trial -> project-relative path) while that file still exists
    (``alive(path)``). ``name_of(study)`` gives a batch file's project-relative path."""
    problems = []
    for study in batch.studies if batch is not None else []:
        holder = holders.get(study.trial_id)
        if holder and holder != name_of(study) and alive(holder):
            problems.append(study.problem(
                "trial.id",
                f"trial {study.trial_id!r} is held by {holder}: one trial, one study file "
                f"(edit {holder} and ingest it with --supersede)",
            ))
    return problems
