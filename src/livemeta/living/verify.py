"""``livemeta verify``: does the database agree with the repository?

The whole history is replayed from git into a fresh database beside the real one and every table
of the ``history`` schema is compared with it, row for row and float for float: revisions
(ids, messages, authors, times), the commits behind them, the evidence rows with their validity,
the named versions, the analyses files and every stored pooled estimate. The only columns left out
say when and with which livemeta a number was computed (``computed_at``, ``livemeta_version``,
and ``schema_migrations`` as a whole), not what it is. A stored estimate that differs from the
replay's fresh computation is reported with both values.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ..errors import LivemetaError
from ..project import Project
from ..sql import named
from .history import Applied, check_conflicts, read_history, replay

_EXCLUDE = {
    "revisions": ("livemeta_version",),
    "pooled_estimates": ("computed_at", "livemeta_version"),
}
_SKIP = {"schema_migrations"}
_KEYS = {
    "revisions": ("revision_id",),
    "commits": ("seq",),
    "revision_files": ("revision_id", "trial_id"),
    "revision_problems": ("revision_id", "problem_no"),
    "analysis_files": ("sha256",),
    "versions": ("name",),
    "pooled_estimates": ("analysis_id", "revision_id", "stratum"),
    "trials": ("trial_id", "valid_from"),
    "sources": ("trial_id", "source_id", "valid_from"),
    "arms": ("trial_id", "arm_id", "valid_from"),
    "resistance_definitions": ("trial_id", "definition_id", "valid_from"),
    "outcomes": ("trial_id", "outcome_id", "valid_from"),
    "adverse_events": ("trial_id", "ae_id", "valid_from"),
    "risk_of_bias": ("trial_id", "assessment_id", "valid_from"),
    "searches": ("run_id", "valid_from"),
    "search_records": ("record_id", "valid_from"),
    "record_links": ("record_id", "target", "relation", "status", "valid_from"),
    "duplicate_overrides": ("action", "record_a", "record_b", "valid_from"),
    "screening_protocol": ("stage", "valid_from"),
    "exclusion_reasons": ("reason_id", "valid_from"),
    "screening_decisions": ("record_id", "stage", "reviewer", "decided_at", "role", "valid_from"),
}


@dataclass
class VerifyReport:
    database: Path
    head: str
    revisions: int
    differences: list[str] = field(default_factory=list)
    rejected: list[Applied] = field(default_factory=list)
    uncommitted: list[tuple[str, str]] = field(default_factory=list)
    tables: int = 0
    rows: int = 0
    estimates: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.differences


def _attach(con, path: Path, alias: str, wait: float) -> None:
    from ..db.connection import patiently

    quoted = "'" + str(path).replace("'", "''") + "'"
    patiently(lambda: con.execute(named("attach_read_only").format(path=quoted, alias=alias)), path, wait)


def _fmt(v) -> str:
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str) and len(v) > 80:
        return repr(v[:77] + "...")
    return repr(v)


def _compare_table(con, table: str) -> tuple[list[str], int]:
    exclude = _EXCLUDE.get(table)
    sql = named("verify_table").format(table=table, exclude=f"EXCLUDE ({', '.join(exclude)})" if exclude else "")
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description][1:]
    rows = cur.fetchall()
    if not rows:
        return [], 0
    keys = [c for c in _KEYS.get(table, ()) if c in cols] or cols
    sides: dict[tuple, dict[str, list[tuple]]] = {}
    for side, *values in rows:
        rec = dict(zip(cols, values))
        sides.setdefault(tuple(rec[k] for k in keys), {}).setdefault(side, []).append(rec)
    out = []
    for key, found in sides.items():
        label = f"{table} " + ", ".join(f"{k}={v!r}" for k, v in zip(keys, key))
        stored, fresh = found.get("stored", []), found.get("fresh", [])
        if stored and fresh and len(stored) == len(fresh) == 1:
            a, b = stored[0], fresh[0]
            diffs = [f"{c}: database {_fmt(a[c])}, repository {_fmt(b[c])}" for c in cols if a[c] != b[c] and not (a[c] != a[c] and b[c] != b[c])]
            out.append(f"{label}: " + "; ".join(diffs))
        else:
            for rec in stored:
                out.append(f"{label}: in the database, not in a replay of the repository")
            for rec in fresh:
                out.append(f"{label}: in a replay of the repository, not in the database")
    return out, len(rows)


def verify(project: Project, db: Path, *, wait: float = 10.0) -> VerifyReport:
    """Replay the repository into a fresh database and compare it, table by table, with ``db``."""
    from ..db import connect

    begin = time.monotonic()
    db = Path(db)
    if not db.exists():
        raise LivemetaError(f"no database at {db}", hint="create it with `livemeta build`")
    with connect(db, read_only=True, wait=wait):  # a damaged file, or one of another schema version: said clearly
        pass
    history = read_history(project)
    check_conflicts(history)
    tmp = Path(tempfile.mkdtemp(prefix="livemeta-verify-"))
    try:
        fresh_path = tmp / "fresh.duckdb"
        with connect(fresh_path) as con:
            applied = replay(con, history, history.steps)
        report = VerifyReport(db, history.head, sum(a.makes_revision for a in applied),
                              rejected=[a for a in applied if a.status == "rejected"],
                              uncommitted=history.uncommitted)
        con = duckdb.connect(":memory:")
        try:
            _attach(con, fresh_path, "fresh", wait)
            _attach(con, db, "stored", wait)
            mine = {r[0] for r in con.execute(named("history_table_names"), ["stored"]).fetchall()}
            theirs = {r[0] for r in con.execute(named("history_table_names"), ["fresh"]).fetchall()}
            for table in sorted(theirs - mine - _SKIP):
                report.differences.append(f"table history.{table} is missing from the database (run `livemeta init`)")
            for table in sorted((mine & theirs) - _SKIP):
                diffs, _ = _compare_table(con, table)
                report.differences += diffs
                report.tables += 1
            _, report.rows, report.estimates = con.execute(named("verify_counts")).fetchone()
        finally:
            con.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report.seconds = time.monotonic() - begin
    return report
