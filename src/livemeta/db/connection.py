"""Opening the DuckDB file: briefly, migrated when writable, and patient with a held lock.

DuckDB lets one process open a database file for writing and then refuses every other process,
readers included. livemeta commands therefore hold a connection only while they need it, and a
command that finds the file locked retries with exponential backoff for up to ``wait`` seconds
before giving up with a message naming the process that holds the lock.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from ..errors import DatabaseLocked, LivemetaError, NotInitialised

_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<exe>.+?) \(PID (?P<pid>\d+)\)")


def _is_lock_error(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


def _lock_message(path: Path, exc: BaseException, waited: float) -> DatabaseLocked:
    m = _LOCK_HOLDER.search(str(exc))
    holder = f"process {m['pid']} ({m['exe']})" if m else "another process"
    return DatabaseLocked(
        f"database {path} is locked by {holder}; gave up after waiting {waited:.1f} s",
        hint="wait for that command to finish, or pass a longer --wait",
    )


def open_connection(path: Path, *, read_only: bool, wait: float) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect`` retried with backoff (0.05 s doubling to 1 s) while the file is locked."""
    path = Path(path)
    if read_only and not path.exists():
        raise NotInitialised(
            f"no database at {path}",
            hint="create it with `livemeta build` (bundled evidence) or `livemeta init` (empty)",
        )
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    return patiently(lambda: duckdb.connect(str(path), read_only=read_only), path, wait)


def patiently(open_it, path: Path, wait: float):
    """``open_it()`` retried with backoff (0.05 s doubling to 1 s) while ``path`` is locked by
    another process, for up to ``wait`` seconds; then :class:`DatabaseLocked` naming the holder."""
    start = time.monotonic()
    delay = 0.05
    while True:
        try:
            return open_it()
        except duckdb.Error as exc:
            waited = time.monotonic() - start
            if not _is_lock_error(exc):
                raise LivemetaError(f"cannot open database {path}: {exc}") from None
            if waited >= wait:
                raise _lock_message(path, exc, waited) from None
            time.sleep(min(delay, max(wait - waited, 0.0)))
            delay = min(delay * 2, 1.0)


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """``BEGIN`` ... ``COMMIT``, or ``ROLLBACK`` on any error (then the error goes on)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:  # the connection is gone; nothing was committed
            pass
        raise
    con.execute("COMMIT")


@contextlib.contextmanager
def connect(
    path: Path | str, *, read_only: bool = False, wait: float = 10.0, migrate: bool = True
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the database for the length of a ``with`` block.

    A writable connection is migrated to the newest schema and gets the current views before it
    is handed out; a read-only one must find a livemeta database already there, at the newest
    schema (with ``migrate=False``: at any schema, for a look before an upgrade).
    """
    from .migrations import apply_migrations, install_views, migrations, schema_version

    path = Path(path)
    con = open_connection(path, read_only=read_only, wait=wait)
    try:
        if read_only:
            version = schema_version(con)
            if version == 0:
                raise NotInitialised(
                    f"{path} is not a livemeta database (no migrations applied)",
                    hint="run `livemeta init` or `livemeta build` on it first",
                )
            newest = migrations()[-1].version
            if migrate and version < newest:
                raise NotInitialised(
                    f"{path} has schema version {version}; this livemeta reads version {newest}",
                    hint="upgrade it with `livemeta build` (or `livemeta init`)",
                )
        elif migrate:
            apply_migrations(con)
            install_views(con)
        yield con
    finally:
        con.close()
