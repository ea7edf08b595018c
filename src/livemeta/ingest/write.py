"""Writing a validated batch: bulk inserts from DataFrames, inside the caller's transaction or one
of its own.

:func:`write_rows` writes a batch's rows under an existing revision: the current rows of the
trials it supersedes or removes are closed at that revision (``queries/ingest/close_rows.sql``),
then every table's rows are inserted in one statement from the batch's frame
(``queries/ingest/insert_rows.sql``), numbered after the largest row id so that a replay of the same
history numbers them the same way. :func:`write_batch` wraps that in ``BEGIN`` ... ``COMMIT``
with a new revision (``ROLLBACK`` on any error, so a batch is all or nothing).
"""

from __future__ import annotations

import duckdb

from ..db.connection import unregister
from .checks import Plan, sql
from .frames import TABLES, Batch

_FRAME = "livemeta_ingest_frame"


def write_rows(con: duckdb.DuckDBPyConnection, batch: Batch | None, plan: Plan, revision: int) -> None:
    """Close the superseded and removed trials' rows and insert the batch's rows at ``revision``."""
    closing = plan.superseded + plan.removed
    if closing:
        for table in TABLES:
            con.execute(sql("close_rows", table=table), {"revision": revision, "trial_ids": closing})
    if batch is None:
        return
    wanted = set(plan.written)
    next_id = con.execute(sql("max_row_id")).fetchall()[0][0] + 1
    for table in TABLES:
        df = batch.db_frame(table)
        df = df[df["trial_id"].isin(wanted)]
        if df.empty:
            continue
        df = df.assign(row_id=range(next_id, next_id + len(df)))
        next_id += len(df)
        con.register(_FRAME, df)
        try:
            con.execute(sql("insert_rows", table=table, frame=_FRAME), {"revision": revision})
        finally:
            unregister(con, _FRAME)


def revision_files(batch: Batch | None, plan: Plan, names: dict[str, str] | None = None) -> list[tuple[str, str, str, str]]:
    """``(path, sha256, trial_id, action)`` for every trial the plan changes; ``names`` maps a
    removed trial to the path its file had."""
    out = []
    if batch is not None:
        for s in batch.studies:
            action = plan.actions.get(s.trial_id)
            if action in ("added", "superseded"):
                out.append((s.name, s.sha256, s.trial_id, action))
    for tid in plan.removed:
        out.append(((names or {}).get(tid, ""), "", tid, "removed"))
    return out


def write_batch(
    con: duckdb.DuckDBPyConnection, batch: Batch, plan: Plan, *, author: str, message: str, kind: str = "ingest"
) -> int:
    """Write the batch as one new revision in its own transaction; returns its id.

    On any error the transaction is rolled back (the caller's connection is left usable) and the
    error is raised as it came; a full disk or a damaged file becomes a user error saying that
    nothing of the batch was written.
    """
    from ..db import new_revision
    from ..db.connection import storage_errors, transaction

    revision = None
    what = lambda: f"revision {revision} was not written" if revision else "the new revision was not written"  # noqa: E731
    with storage_errors(what=what, outcome=lambda: _unchanged(con)), transaction(con):
        revision = new_revision(con, author=author, message=message, kind=kind, files=revision_files(batch, plan))
        write_rows(con, batch, plan, revision)
    return revision


def _unchanged(con: duckdb.DuckDBPyConnection) -> str:
    from ..db import current_revision

    try:
        rev = current_revision(con)
    except duckdb.Error:
        rev = None
    return "nothing of this batch was written" + (f"; the database is still at revision {rev}" if rev else "")
