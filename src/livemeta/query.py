"""Ad hoc SQL on a read-only connection, with limits, formatted for people or machines.

Only statements that read are run (SELECT, including WITH / DESCRIBE / SHOW / SUMMARIZE, PRAGMA,
and EXPLAIN of a statement that is itself allowed: EXPLAIN ANALYZE runs it); anything else is
refused before it reaches the database. The connection is read-only and has file-system access
switched off, so `COPY ... TO`, `read_csv('/etc/...')` or `ATTACH` cannot touch files either.

Limits: ``timeout`` seconds for running, fetching and formatting together; at most ``max_rows``
rows and about ``max_mb`` megabytes of values, checked while the rows are fetched (a batch at a
time, sized so that a result over the limit is refused after at most one oversized row); and at
most ``max_memory_mb`` megabytes of memory for DuckDB while it runs the query (its memory_limit,
with a private temporary folder for what it spills, itself bounded), so that a query that builds a
huge value (``repeat('x', 3000000000)``) stops with a message instead of taking the machine's
memory. Every limit is a finite number within its range (:data:`LIMITS`): none can be switched
off with ``nan``, ``inf`` or a huge value. This module avoids pandas so that `livemeta query`
starts fast.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from .db.connection import open_connection, storage_error
from .db.migrations import check_schema
from .db.revisions import resolve_revision, set_as_of
from .errors import LivemetaError
from .safe import csv_text, md_text

FORMATS = ("table", "csv", "json", "markdown")
_READING = {duckdb.StatementType.SELECT, duckdb.StatementType.PRAGMA}
MAX_ROWS = 1_000_000
MAX_MB = 100.0
MAX_MEMORY_MB = 2000.0

#: each limit's option, lowest and highest value, and unit: a limit is a finite number in its range
LIMITS = {
    "timeout": ("--timeout", 0.1, 86_400.0, "seconds"),
    "max_rows": ("--max-rows", 1, 1_000_000_000, "rows"),
    "max_mb": ("--max-mb", 0.001, 10_000.0, "MB"),
    "max_memory_mb": ("--max-memory-mb", 64.0, 65_536.0, "MB"),
}


def check_limit(name: str, value) -> None:
    """Refuse a limit that is not a finite number within its range (:data:`LIMITS`), with a message
    naming the option; ``nan``, ``inf`` and ``1e308`` would switch the limit off."""
    option, low, high, unit = LIMITS[name]
    whole = isinstance(low, int)
    ok = (isinstance(value, int) or (isinstance(value, float) and not whole)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or not low <= value <= high:
        kind = "a whole number" if whole else "a number"
        raise LivemetaError(
            f"{option} must be {kind} from {low:,g} to {high:,g} {unit}, got {value!r}",
            hint="a limit cannot be switched off: pass a value in that range",
        )


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple]
    revision: int | None

    def to_frame(self):
        """The result as a pandas DataFrame (pandas is imported here, not by `livemeta query`)."""
        import pandas as pd

        return pd.DataFrame.from_records(self.rows, columns=self.columns)

    def format(self, fmt: str = "table", *, deadline: float | None = None, timeout: float | None = None) -> str:
        """The result as text; with ``deadline`` (a ``time.monotonic()`` value) formatting stops
        there with the error of a ``timeout``-second query (the CLI's --timeout covers it too)."""
        if fmt not in FORMATS:
            raise LivemetaError(f"unknown format {fmt!r}", hint=f"choose one of: {', '.join(FORMATS)}")
        rows = self.rows if deadline is None else _until(self.rows, deadline, timeout)
        return {"table": _table, "csv": _csv, "json": _json, "markdown": _markdown}[fmt](self.columns, rows)


def _until(rows, deadline: float, timeout: float | None):
    for row in rows:
        if time.monotonic() > deadline:
            raise _time_limit(timeout)
        yield row


def _time_limit(timeout: float | None) -> LivemetaError:
    return LivemetaError(
        f"query stopped after the time limit of {timeout or 0:g} s", hint="narrow it, or pass a larger --timeout"
    )


def _refuse(st) -> LivemetaError:
    kind = st.type.name.replace("_", " ")
    return LivemetaError(
        f"livemeta query is read-only: refused a {kind} statement ({st.query.strip()[:60]!r})",
        hint="change the evidence with `livemeta ingest` (a new revision), never with SQL",
    )


def _explained(sql: str) -> str:
    """The statement an EXPLAIN statement explains: what follows EXPLAIN, ANALYZE and an option
    list in parentheses (comments skipped); "" when nothing follows."""
    tokens = [(pos, kind) for pos, kind in duckdb.tokenize(sql) if kind != duckdb.token_type.comment]
    ends = [pos for pos, _ in tokens[1:]] + [len(sql)]
    depth = 0
    for (pos, kind), end in list(zip(tokens, ends))[1:]:  # tokens[0] is EXPLAIN
        text = sql[pos:end].strip()
        if depth or (kind == duckdb.token_type.operator and text.startswith("(")):
            depth += text.count("(") - text.count(")") if kind == duckdb.token_type.operator else 0
            continue
        if kind == duckdb.token_type.keyword and text.lower() in ("analyze", "analyse"):
            continue
        return sql[pos:]
    return ""


def _check_statement(st) -> None:
    if st.type == duckdb.StatementType.EXPLAIN:
        inner = duckdb.extract_statements(_explained(st.query))
        if not inner:
            raise _refuse(st)
        for s in inner:
            _check_statement(s)
    elif st.type not in _READING:
        raise _refuse(st)


def check_read_only(sql: str) -> None:
    """Refuse, with a clear message, any statement that is not a read (EXPLAIN: of a read)."""
    try:
        statements = duckdb.extract_statements(sql)
        if not statements:
            raise LivemetaError("no SQL statement given")
        for st in statements:
            _check_statement(st)
    except duckdb.Error as exc:
        raise LivemetaError(f"SQL error: {exc}") from None


def _size(v: Any) -> int:
    """About how many bytes a fetched value holds (text and blobs by length, 8 for the rest)."""
    if isinstance(v, (str, bytes, bytearray)):
        return len(v)
    if isinstance(v, (list, tuple)):
        return 8 + sum(_size(x) for x in v)
    if isinstance(v, dict):
        return 8 + sum(_size(k) + _size(x) for k, x in v.items())
    return 8


def _fetch(cursor, *, max_rows: int, max_mb: float, deadline: float, timeout: float) -> list[tuple]:
    """Every row, refusing the result as soon as it passes ``max_rows`` or ``max_mb``.

    The first batch is one row; each next batch is sized from the bytes per row seen so far so
    that it cannot take the result far past the byte limit.
    """
    limit = max_mb * 1e6
    rows: list[tuple] = []
    size = 0
    batch = 1
    while True:
        chunk = cursor.fetchmany(min(batch, max_rows + 1 - len(rows)))
        if not chunk:
            return rows
        rows.extend(chunk)
        size += sum(_size(row) for row in chunk)
        if len(rows) > max_rows:
            raise LivemetaError(
                f"the result has more than {max_rows:,} rows",
                hint="narrow the query (a WHERE or LIMIT, an aggregate), or raise the limit with --max-rows",
            )
        if size > limit:
            raise LivemetaError(
                f"the result is larger than the limit of {max_mb:g} MB",
                hint="narrow the query (fewer columns or rows), or raise the limit with --max-mb",
            )
        if time.monotonic() > deadline:
            raise _time_limit(timeout)
        per_row = max(size / len(rows), 1.0)
        batch = int(max(1, min(2048, (limit - size) / per_row / 2)))


def _bound_memory(con, max_memory_mb: float, spill: str) -> None:
    """DuckDB's memory for this session: at most ``max_memory_mb``, spilling to the private folder
    ``spill`` (at most twice as much again: a read-only database's own ``.tmp`` folder may not be
    writable, and a spill must not fill the disk either)."""
    con.execute(f"SET memory_limit = '{max_memory_mb:.0f}MB'")
    con.execute(f"SET temp_directory = '{spill.replace(chr(39), chr(39) * 2)}'")
    con.execute(f"SET max_temp_directory_size = '{2 * max_memory_mb:.0f}MB'")


class _AddressSpace:
    """While the query runs and its rows are fetched, the process may hold at most what it held
    before plus the query's memory (``max_memory_mb``), the result (``max_mb``, about three times
    over as Python objects) and some slack: DuckDB's memory_limit bounds only the memory its buffer
    manager allocates, and a value that one function builds (``repeat('x', 3000000000)``) escapes
    it. The soft RLIMIT_AS is lowered (never raised) for that time and restored after; where the
    platform has no such limit, DuckDB's memory_limit alone applies."""

    SLACK_MB = 512

    def __init__(self, max_memory_mb: float, max_mb: float):
        self.extra = (max_memory_mb + 3 * max_mb + self.SLACK_MB) * 2**20
        self.saved = None

    def __enter__(self):
        try:
            import resource

            with open("/proc/self/statm", encoding="ascii") as fh:
                size = int(fh.read().split()[0]) * resource.getpagesize()
            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            limit = int(size + self.extra)
            if hard != resource.RLIM_INFINITY:
                limit = min(limit, hard)
            if soft == resource.RLIM_INFINITY or limit < soft:
                resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
                self.saved = (soft, hard)
        except (ImportError, OSError, ValueError):  # no resource module or /proc (not Linux): DuckDB's limit only
            self.saved = None
        return self

    def __exit__(self, *exc):
        if self.saved is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, self.saved)
        return False


def _memory_limit(max_memory_mb: float) -> LivemetaError:
    return LivemetaError(
        f"the query needs more memory than the limit of {max_memory_mb:,g} MB",
        hint="narrow it (fewer rows or columns, an aggregate, a LIMIT), or raise the limit with --max-memory-mb",
    )


def run_query(
    db_path: Path | str,
    sql: str,
    *,
    as_of: str | int | None = None,
    wait: float = 10.0,
    timeout: float = 30.0,
    max_rows: int = MAX_ROWS,
    max_mb: float = MAX_MB,
    max_memory_mb: float = MAX_MEMORY_MB,
) -> QueryResult:
    """Run read-only ``sql``; with ``as_of`` every view reads the database as of that revision.

    The result of the last statement is returned. Running and fetching longer than ``timeout``
    seconds is stopped (formatting too, when given the deadline: :meth:`QueryResult.format`);
    a result of more than ``max_rows`` rows or ``max_mb`` megabytes is refused, and so is a query
    that needs more than ``max_memory_mb`` megabytes of memory. Each limit must be a finite number
    in its range (:func:`check_limit`).
    """
    import shutil
    import tempfile

    for name, value in (("timeout", timeout), ("max_rows", max_rows), ("max_mb", max_mb), ("max_memory_mb", max_memory_mb)):
        check_limit(name, value)
    check_read_only(sql)
    con = open_connection(Path(db_path), read_only=True, wait=wait)
    spill = tempfile.mkdtemp(prefix="livemeta-query-")
    try:
        revision = None
        deadline = time.monotonic() + timeout
        timer = threading.Timer(timeout, con.interrupt)
        try:
            check_schema(con, db_path, writable=False)
            if as_of is not None:
                revision = resolve_revision(con, as_of)
                set_as_of(con, revision)
            _bound_memory(con, max_memory_mb, spill)
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
            timer.start()
            with _AddressSpace(max_memory_mb, max_mb):
                cursor = con.execute(sql)
                columns = [d[0] for d in cursor.description] if cursor.description else []
                rows = _fetch(cursor, max_rows=max_rows, max_mb=max_mb, deadline=deadline, timeout=timeout) if columns else []
        except duckdb.InterruptException:
            raise _time_limit(timeout) from None
        except duckdb.OutOfMemoryException:
            raise _memory_limit(max_memory_mb) from None
        except MemoryError:  # Python itself could not hold a fetched value
            raise _memory_limit(max_memory_mb) from None
        except duckdb.Error as exc:
            raise storage_error(db_path, exc) or LivemetaError(
                f"SQL error: {str(exc).strip()}", hint="`livemeta views` lists what you can query"
            ) from None
        finally:
            timer.cancel()
        return QueryResult(columns, rows, revision)
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


def _iso_duration(v: dt.timedelta) -> str:
    """An interval as ISO 8601 (P1DT2H30M); DuckDB's months arrive as 30 days."""
    us = round(v / dt.timedelta(microseconds=1))
    sign, us = ("-", -us) if us < 0 else ("", us)
    days, us = divmod(us, 86_400_000_000)
    hours, us = divmod(us, 3_600_000_000)
    minutes, us = divmod(us, 60_000_000)
    seconds = f"{us / 1e6:.6f}".rstrip("0").rstrip(".")
    time_part = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M")) if n) + (f"{seconds}S" if us else "")
    return f"{sign}P" + (f"{days}D" if days else "") + (f"T{time_part}" if time_part else ("" if days else "T0S"))


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
    if isinstance(v, dt.timedelta):
        return _iso_duration(v)
    if isinstance(v, uuid.UUID):
        return str(v)
    if v is None or isinstance(v, (str, int, float)):
        return v
    return str(v)  # any other type DuckDB may return: its text


def _text(v: Any) -> str:
    kind = type(v)  # the common types first: a table of thousands of rows calls this for every cell
    if kind is str:
        return v
    if kind is float:
        return f"{v:.6g}"
    if kind is int:
        return str(v)
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_text(x) for x in v) + "]"
    return str(_plain(v))


def _unique(columns: list[str]) -> list[str]:
    """Column names made unique for JSON keys: a repeated name gets the first free _1, _2, ..."""
    taken, out = set(columns), []
    for c in columns:
        name, n = c, 0
        while name in out or (n and name in taken):
            n += 1
            name = f"{c}_{n}"
        out.append(name)
    return out


def _table(columns: list[str], rows) -> str:
    cells = [[_text(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)), line]
    out += ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in cells]
    out.append(f"({len(cells)} row{'s' if len(cells) != 1 else ''})")
    return "\n".join(out)


def _csv(columns: list[str], rows) -> str:
    # no spreadsheet formulas (livemeta.safe.CSV_RULE)
    return csv_text(columns, ([_text(v) if not isinstance(v, (int, float)) or isinstance(v, bool) else _plain(v)
                               for v in r] for r in rows)).rstrip("\n")


def _json(columns: list[str], rows) -> str:
    keys = _unique(columns)
    return json.dumps([{c: _plain(v) for c, v in zip(keys, r)} for r in rows], indent=2, ensure_ascii=False)


def _markdown(columns: list[str], rows) -> str:
    """A Markdown table; every value escaped (livemeta.safe.md_text: text, never markup)."""
    out = ["| " + " | ".join(md_text(c) for c in columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    out += ["| " + " | ".join(md_text(_text(v)) for v in r) + " |" for r in rows]
    return "\n".join(out)
