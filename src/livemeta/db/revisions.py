"""Revisions: every successful ingest (or build) is one, and every row records the revision that
added it (``valid_from``) and the one that superseded it (``valid_to``).

Reading "as of" a revision sets the session variable ``livemeta_as_of``, which every view in
``queries/views/`` honours through the ``visible_at`` macro; unset, the views show the current state.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb

from .. import __version__
from ..errors import LivemetaError, excerpt
from ..sql import named


@dataclass(frozen=True)
class Revision:
    revision_id: int
    created_at: dt.datetime
    author: str
    message: str  # the commit's message as git has it (provenance; not always the review's words)
    kind: str  # how it was written: 'build' (the start of the history) or 'ingest'
    livemeta_version: str
    #: the kinds of project file it changed, in livemeta.project.FILE_KINDS order ('evidence',
    #: 'analyses'); None for a revision written before livemeta recorded them
    changes: tuple[str, ...] | None = None
    note: str | None = None  # the review's own words about it (livemeta.living.history.commit_note)
    changed_files: tuple[str, ...] = ()  # the project's files other than study files it changed
    label: str | None = None  # what kind of change it is, in words (the SQL macro revision_kind)


def new_revision(
    con: duckdb.DuckDBPyConnection,
    *,
    author: str,
    message: str,
    kind: str,
    files: list[tuple[str, str, str, str]],
    created_at: dt.datetime | None = None,
    changes: list[str] | None = None,
    note: str | None = None,
    changed_files: list[str] | None = None,
) -> int:
    """Record a revision and the files it read; returns its id. Call inside the ingest transaction.

    ``files`` holds ``(path, sha256, trial_id, action)`` with action ``added``, ``superseded`` or
    ``removed``; ``created_at`` (UTC) defaults to now. ``changes`` are the kinds of project file it
    changed (default: evidence), ``note`` the review's own words (default: ``message``, what an
    ingest outside git was given), ``changed_files`` the project's files other than study files.
    """
    rev = con.execute(named("revision_next_id")).fetchone()[0]
    now = created_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.execute(
        named("revision_insert"),
        [rev, now, author, message, kind, __version__, ["evidence"] if changes is None else list(changes),
         message if changes is None and note is None else note, list(changed_files or [])],
    )
    if files:  # one statement for the whole batch (10,000 rows one by one take seconds)
        con.execute(named("revision_file_insert"), [rev, *(list(column) for column in zip(*files))])
    return rev


def list_revisions(con: duckdb.DuckDBPyConnection) -> list[Revision]:
    rows = con.execute(named("revisions")).fetchall()
    return [Revision(*r[:6], tuple(r[6]) if r[6] is not None else None, r[7], tuple(r[8] or ()), r[9]) for r in rows]


def current_revision(con: duckdb.DuckDBPyConnection) -> int | None:
    return con.execute(named("revision_current")).fetchone()[0]


_REVISION_ID = re.compile(r"[0-9]+", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def resolve_revision(con: duckdb.DuckDBPyConnection, spec: str | int | None) -> int:
    """A revision id (ASCII digits), a date YYYY-MM-DD meaning the last revision made on or before
    that day, or the name of a version (``review-2025``); None means the current revision. Anything
    else is refused, "" included.

    Revisions are stamped in UTC, and a date means the end of that UTC day.
    """
    if spec is None:
        rev = current_revision(con)
        if rev is None:
            raise LivemetaError("the database has no revisions yet", hint="run `livemeta build` or `livemeta ingest`")
        return rev
    text = str(spec)
    if text == "":
        raise LivemetaError("an empty --as-of names no revision", hint="give a revision id, a date (YYYY-MM-DD) or a version name")
    if _REVISION_ID.fullmatch(text):
        rev = int(text) if len(text) <= 10 else None
        exists = rev is not None and rev <= 2**31 - 1 and con.execute(named("revision_exists"), [rev]).fetchone()[0]
        if not exists:
            last = current_revision(con)
            shown = text if len(text) <= 20 else text[:20] + "..."
            raise LivemetaError(f"no revision {shown}", hint=f"revisions run from 1 to {last}; see `livemeta log`"
                                if last else "the database has no revisions yet")
        return rev
    if _DATE.fullmatch(text):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise LivemetaError(f"{text!r} is not a valid date") from None
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
        rev = con.execute(named("revision_before"), [end]).fetchone()[0]
        if rev is None:
            raise LivemetaError(f"no revision was made on or before {text}", hint="see `livemeta log`")
        return rev
    if _has_versions(con):
        row = con.execute(named("version_revision"), [text]).fetchone()
        if row is not None:
            return row[0]
        names = [r[0] for r in con.execute(named("versions")).fetchall()]
        hint = f"the versions are: {', '.join(names)}" if names else "this database has no named versions"
        raise LivemetaError(f"{excerpt(text)} is neither a revision id, a date (YYYY-MM-DD) nor a version name", hint=hint)
    raise LivemetaError(f"{excerpt(text)} is neither a revision id nor a date (YYYY-MM-DD)")


def _has_versions(con: duckdb.DuckDBPyConnection) -> bool:
    from .migrations import schema_version

    return schema_version(con) >= 4


def set_as_of(con: duckdb.DuckDBPyConnection, revision: int | None) -> None:
    """Make every view of this connection read the database as of ``revision`` (None: current)."""
    if revision is None:
        con.execute("RESET VARIABLE livemeta_as_of")
    else:
        con.execute("SET VARIABLE livemeta_as_of = ?", [int(revision)])


@contextmanager
def as_of(con: duckdb.DuckDBPyConnection, spec: str | int | None) -> Iterator[int]:
    """The views of ``con`` read as of the revision ``spec`` names (:func:`resolve_revision`; None:
    the current one) inside the block, which gets that revision's number; current again after it."""
    revision = resolve_revision(con, spec)
    set_as_of(con, revision)
    try:
        yield revision
    finally:
        set_as_of(con, None)
