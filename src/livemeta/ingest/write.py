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
    """Write the batch as one new revision; returns its id."""
    from ..db import new_revision

    files = [(s.name, s.sha256, s.trial_id, plan.actions[s.trial_id]) for s in batch.studies]
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
            try:
                con.execute(sql("insert_rows", table=table, frame=_FRAME), {"revision": revision})
            finally:
                con.unregister(_FRAME)
        con.execute("COMMIT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:  # the connection is gone; nothing was committed
            pass
        raise
    return revision
