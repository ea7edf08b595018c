"""Writing a validated batch: one transaction, one revision, bulk inserts from DataFrames.

Inside ``BEGIN`` ... ``COMMIT`` (``ROLLBACK`` on any error, so a batch is all or nothing):
the revision and its files (``livemeta.db.new_revision``), then for superseded trials the current
rows of every table closed at the new revision (``queries/ingest/close_rows.sql``), then every
table's rows inserted in one statement from the batch's frame (``queries/ingest/insert_rows.sql``).
"""

from __future__ import annotations

import duckdb

from .checks import Plan, sql
from .frames import TABLES, Batch

_FRAME = "livemeta_ingest_frame"


def write_batch(
    con: duckdb.DuckDBPyConnection, batch: Batch, plan: Plan, *, author: str, message: str, kind: str = "ingest"
) -> int:
    """Write the batch as one new revision; returns its id.

    On any error the transaction is rolled back (the caller's connection is left usable) and the
    error is raised as it came; a full disk or a damaged file becomes a user error saying that
    nothing of the batch was written.
    """
    from ..db import new_revision
    from ..db.connection import rollback, storage_errors

    files = [(s.name, s.sha256, s.trial_id, plan.actions[s.trial_id]) for s in batch.studies]
    revision = None
    what = lambda: f"revision {revision} was not written" if revision else "the new revision was not written"  # noqa: E731
    with storage_errors(what=what, outcome=lambda: _unchanged(con)):
        con.execute("BEGIN TRANSACTION")
        try:
            revision = new_revision(con, author=author, message=message, kind=kind, files=files)
            if plan.superseded:
                for table in TABLES:
                    con.execute(sql("close_rows", table=table), {"revision": revision, "trial_ids": plan.superseded})
            for table in TABLES:
                df = batch.db_frame(table)
                if df.empty:
                    continue
                con.register(_FRAME, df)
                con.execute(sql("insert_rows", table=table, frame=_FRAME), {"revision": revision})
                con.unregister(_FRAME)
            con.execute("COMMIT")
        except BaseException:
            rollback(con)
            try:  # only after the rollback: inside the aborted transaction it fails and hides the cause
                con.unregister(_FRAME)
            except duckdb.Error:
                pass
            raise
    return revision


def _unchanged(con: duckdb.DuckDBPyConnection) -> str:
    from ..db import current_revision

    try:
        rev = current_revision(con)
    except duckdb.Error:
        rev = None
    return "nothing of this batch was written" + (f"; the database is still at revision {rev}" if rev else "")
