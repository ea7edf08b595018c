"""Ad hoc SQL on a read-only connection, with a time limit, formatted for people or machines.

Only statements that read are run (SELECT, including WITH / DESCRIBE / SHOW / SUMMARIZE, and
EXPLAIN and PRAGMA); anything else is refused before it reaches the database. The connection is
read-only and has file-system access switched off, so `COPY ... TO`, `read_csv('/etc/...')` or
`ATTACH` cannot touch files either. This module avoids pandas so that `livemeta query` starts fast.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from .db.connection import open_connection
from .db.migrations import schema_version
from .db.revisions import resolve_revision, set_as_of
from .errors import LivemetaError, NotInitialised

FORMATS = ("table", "csv", "json", "markdown")
_READING = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN, duckdb.StatementType.PRAGMA}


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple]
    revision: int | None

    def to_frame(self):
        """The result as a pandas DataFrame (pandas is imported here, not by `livemeta query`)."""
        import pandas as pd

        return pd.DataFrame.from_records(self.rows, columns=self.columns)

    def format(self, fmt: str = "table") -> str:
        if fmt not in FORMATS:
            raise LivemetaError(f"unknown format {fmt!r}", hint=f"choose one of: {', '.join(FORMATS)}")
        return {"table": _table, "csv": _csv, "json": _json, "markdown": _markdown}[fmt](self.columns, self.rows)


def check_read_only(sql: str) -> None:
    """Refuse, with a clear message, any statement that is not a read."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise LivemetaError(f"SQL error: {exc}") from None
    if not statements:
        raise LivemetaError("no SQL statement given")
    for st in statements:
        if st.type not in _READING:
            kind = st.type.name.replace("_", " ")
            raise LivemetaError(
                f"livemeta query is read-only: refused a {kind} statement ({st.query.strip()[:60]!r})",
                hint="change the evidence with `livemeta ingest` (a new revision), never with SQL",
            )


def run_query(
    db_path: Path | str, sql: str, *, as_of: str | int | None = None, wait: float = 10.0, timeout: float = 30.0
) -> QueryResult:
    """Run read-only ``sql``; with ``as_of`` every view reads the database as of that revision.

    The result of the last statement is returned. A query running longer than ``timeout``
    seconds is interrupted.
    """
    check_read_only(sql)
    con = open_connection(Path(db_path), read_only=True, wait=wait)
    try:
        if schema_version(con) == 0:
            raise NotInitialised(f"{db_path} is not a livemeta database", hint="run `livemeta build`")
        revision = None
        if as_of is not None:
            revision = resolve_revision(con, as_of)
            set_as_of(con, revision)
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        timer = threading.Timer(timeout, con.interrupt)
        timer.start()
        try:
            cursor = con.execute(sql)
            columns = [d[0] for d in cursor.description] if cursor.description else []
            rows = cursor.fetchall() if cursor.description else []
        except duckdb.InterruptException:
            raise LivemetaError(
                f"query stopped after the time limit of {timeout:g} s", hint="narrow it, or pass a larger --timeout"
            ) from None
        except duckdb.Error as exc:
            raise LivemetaError(f"SQL error: {str(exc).strip()}", hint="`livemeta views` lists what you can query") from None
        finally:
            timer.cancel()
        return QueryResult(columns, rows, revision)
    finally:
        con.close()


def _plain(v: Any) -> Any:
    """A JSON-ready value: dates as ISO text, decimals as floats, non-finite floats as null."""
    if isinstance(v, (dt.date, dt.datetime, dt.time)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    return v


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_text(x) for x in v) + "]"
    return str(_plain(v))


def _table(columns: list[str], rows: list[tuple]) -> str:
    cells = [[_text(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)), line]
    out += ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


def _csv(columns: list[str], rows: list[tuple]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    w.writerows([[_text(v) if not isinstance(v, (int, float)) or isinstance(v, bool) else _plain(v) for v in r] for r in rows])
    return buf.getvalue().rstrip("\n")


def _json(columns: list[str], rows: list[tuple]) -> str:
    return json.dumps([{c: _plain(v) for c, v in zip(columns, r)} for r in rows], indent=2, ensure_ascii=False)


def _markdown(columns: list[str], rows: list[tuple]) -> str:
    def esc(s: str) -> str:
        return s.replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(esc(c) for c in columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    out += ["| " + " | ".join(esc(_text(v)) for v in r) + " |" for r in rows]
    return "\n".join(out)
