"""Opening the DuckDB file briefly and patiently with a held lock (:func:`livemeta.db.connect`, in
:mod:`livemeta.db.database`, also migrates a writable one).

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

from ..errors import DatabaseLocked, LivemetaError, NotInitialised, StorageFailed

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


# DuckDB failing to read or write its file: a damaged (truncated, corrupted) file or a full disk
_STORAGE = re.compile(
    r"Corrupt database file|not a valid DuckDB database|Could not read|Could not write|Failed to commit|"
    r"No space left on device|File too large|Disk quota exceeded|database has been invalidated",
    re.IGNORECASE,
)
_WRITING = re.compile(r"Could not write|Failed to commit|No space left|File too large|Disk quota", re.IGNORECASE)
# the file is fine but may not be written: a read-only file system, or no permission
_NOT_WRITABLE = re.compile(r"Read-only file system|Permission denied", re.IGNORECASE)
_PREFIX = re.compile(r"^(?:[A-Za-z]+ Error: )+(?:Failed to commit: )?")


def storage_failure(exc: BaseException) -> str | None:
    """When ``exc`` is DuckDB failing to read or write its file, the cause in one line; else None."""
    if not isinstance(exc, duckdb.Error):
        return None
    text = " ".join(str(exc).split())
    if not (isinstance(exc, (duckdb.IOException, duckdb.FatalException)) or _STORAGE.search(text)):
        return None
    return _PREFIX.sub("", text)


def storage_error(
    path: Path | str | None, exc: BaseException, what: str | None = None, outcome: str | None = None
) -> StorageFailed | None:
    """The user-facing error for a storage failure (see :func:`storage_failure`), or None.

    The message is "WHAT: CAUSE; OUTCOME": ``what`` says what failed (default: reading or writing
    the database at ``path``) and ``outcome`` what that means for the user's data ("nothing of this
    batch was written; the database is still at revision 3").
    """
    cause = storage_failure(exc)
    if cause is None:
        return None
    refused = _NOT_WRITABLE.search(cause)
    if refused:
        why = "the file system is read-only" if "read-only" in refused.group().lower() else "permission denied"
        what = what or f"cannot open database {path} for writing"
        message = f"{what}: {why}; the file itself is not damaged" + (f"; {outcome}" if outcome else "")
        return StorageFailed(message, hint="commands that only read it (query, pool, log, diff, report, export) work as they "
                             "are; to change it, copy it to a writable place and pass --db, or make the file system "
                             "or the file writable", outcome=outcome)
    writing = bool(_WRITING.search(cause))
    what = what or (f"could not write to database {path}" if writing else f"cannot read database {path}")
    message = f"{what}: {cause}" + (f"; {outcome}" if outcome else "")
    if writing:
        hint = "free some disk space (or fix the file system) and run the command again"
    else:
        message += "; the database file is damaged (truncated or corrupted)"
        hint = "restore it from a copy, or rebuild it from the study files with `livemeta build`"
    return StorageFailed(message, hint=hint, outcome=outcome)


@contextlib.contextmanager
def storage_errors(path: Path | str | None = None, what=None, outcome=None) -> Iterator[None]:
    """Raise a DuckDB storage failure in the block as :class:`StorageFailed` (see
    :func:`storage_error`); any other error passes unchanged. ``what`` and ``outcome`` may be
    callables, asked only after the failure (when what was written is known)."""
    try:
        yield
    except duckdb.Error as exc:
        if storage_failure(exc) is None:
            raise
        what, outcome = (x() if callable(x) else x for x in (what, outcome))
        raise storage_error(path, exc, what, outcome) from None


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """End the connection's open transaction; quiet when DuckDB has already ended it (a failed
    COMMIT rolls back by itself) or the connection is gone."""
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass


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
                raise storage_error(path, exc) or LivemetaError(f"cannot open database {path}: {exc}") from None
            if waited >= wait:
                raise _lock_message(path, exc, waited) from None
            time.sleep(min(delay, max(wait - waited, 0.0)))
            delay = min(delay * 2, 1.0)


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """``BEGIN`` ... ``COMMIT``, or ``ROLLBACK`` on any error, a failed COMMIT included (then the
    error goes on, with its own cause: nothing is run inside the aborted transaction first)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise


def unregister(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop a registered DataFrame; quiet when the transaction is aborted (the error that aborted
    it is the one the user must see) or the connection is gone."""
    try:
        con.unregister(name)
    except duckdb.Error:
        pass
