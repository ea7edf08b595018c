"""Numbered migrations from ``schema/`` and the views from ``queries/views/``.

``schema/NNNN_name.sql`` files are applied in order, each in its own transaction, and recorded in
``history.schema_migrations`` with the file's SHA-256; an applied migration whose file has since
changed is an error (write a new migration instead of editing an old one).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ..errors import LivemetaError, NotInitialised
from ..paths import resource
from ..sql import named
from .connection import transaction

_MIGRATION = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")

@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def migrations() -> list[Migration]:
    """The migrations in ``schema/``, by version."""
    found = []
    for path in sorted(resource("schema").glob("*.sql")):
        m = _MIGRATION.match(path.name)
        if not m:
            raise LivemetaError(f"schema/{path.name}: not a migration name (want NNNN_name.sql)")
        found.append(Migration(int(m["version"]), m["name"], path))
    versions = [m.version for m in found]
    if versions != list(range(len(found))):
        raise LivemetaError(f"schema/ migrations must be numbered 0000, 0001, ... without gaps; found {versions}")
    return found


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The highest migration applied (0 when none beyond the bookkeeping table)."""
    exists = con.execute(named("migrations_table_exists")).fetchone()[0]
    if not exists:
        return 0
    return con.execute(named("migrations_version")).fetchone()[0]


def built_from_git(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the database holds revisions replayed from a project's git history (schema 4 on)."""
    if not con.execute(named("commits_table_exists")).fetchone()[0]:
        return False
    return con.execute(named("commits_rows")).fetchone()[0] > 0


def _rebuild_hint(newest: int) -> str:
    return (f"run `livemeta build` in the project: it rebuilds the database from the git history at schema "
            f"version {newest} (add --backup to keep this file as a .bak)")


def check_schema(con: duckdb.DuckDBPyConnection, path, *, writable: bool, migrating: bool = False) -> int:
    """The database's schema version, refused when this livemeta cannot use the database as it is.

    A database that a newer livemeta migrated further (a migration this one does not know) is
    refused by every command: an older livemeta would write into it and replace its views with
    older ones. A read-only command also refuses a database without livemeta's schema or one at an
    older version (its tables lack what the code reads); a writable connection upgrades it
    (``migrating``), unless it was built from a project's git history: such a database is rebuilt
    from the history (`livemeta build`), so that it holds what a replay stores.
    """
    have = schema_version(con)
    known = migrations()[-1].version
    if have > known:
        raise LivemetaError(
            f"{path} has schema version {have}, made by a newer livemeta; this livemeta knows schema "
            f"versions up to version {known}",
            hint="upgrade livemeta to read or change this database",
        )
    if not writable and have == 0:
        raise NotInitialised(
            f"{path} is not a livemeta database (no migrations applied)",
            hint="run `livemeta init` or `livemeta build` on it first",
        )
    if have < known and (migrating or not writable) and built_from_git(con):
        # an upgrade in place would keep the numbers the older livemeta stored, which today's replay
        # does not reproduce (verify would fail): the history is rebuilt instead, as `build` does
        raise NotInitialised(
            f"{path} has schema version {have}, built from the project's git history by an older livemeta; "
            f"this livemeta needs version {known} and does not upgrade such a database in place (it would keep "
            "numbers the older version stored, which a replay today does not make: `livemeta verify` would fail); "
            "nothing was changed",
            hint=_rebuild_hint(known),
        )
    if not writable and have < known:
        raise NotInitialised(
            f"{path} has schema version {have}; this livemeta needs version {known}",
            hint="run `livemeta init` to upgrade it (its evidence and history are kept)",
        )
    return have


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply every migration not yet applied; return the versions applied now. Idempotent."""
    all_migrations = migrations()
    bootstrap, rest = all_migrations[0], all_migrations[1:]
    con.execute(bootstrap.sql)
    applied = dict(con.execute(named("migrations_applied")).fetchall())
    done = []
    for m in rest:
        if m.version in applied:
            if applied[m.version] != m.sha256:
                raise LivemetaError(
                    f"schema/{m.path.name} changed after it was applied to this database",
                    hint="never edit an applied migration; add a new numbered one",
                )
            continue
        try:
            with transaction(con):
                con.execute(m.sql)
                con.execute(
                    named("migration_record"),
                    [m.version, m.name, m.sha256, dt.datetime.now(dt.UTC).replace(tzinfo=None)],
                )
        except duckdb.CatalogException as exc:
            if "already exists" not in str(exc):
                raise
            raise LivemetaError(
                f"migration schema/{m.path.name} is half recorded in this database: what it creates is there "
                f"already ({' '.join(str(exc).split())[:160]}), but history.schema_migrations has no row for "
                f"version {m.version}; the database was changed outside livemeta (or by an upgrade that was "
                "interrupted), so its schema cannot be trusted; nothing was changed",
                hint=f"{_rebuild_hint(all_migrations[-1].version)}; a database without a project (built before the "
                "history was kept in git) is restored from a copy",
            ) from None
        done.append(m.version)
    return done


@dataclass(frozen=True)
class View:
    name: str
    description: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")


def _description(text: str) -> str:
    """The first sentence of a view's leading comment, whatever lines it spans."""
    words: list[str] = []
    for line in text.lstrip().splitlines():
        if not line.startswith("--"):
            break
        words += line[2:].split()
        if words and words[-1].endswith("."):
            break
    return " ".join(words)


def views() -> list[View]:
    """The named views in ``queries/views/``: file stem = view name, the first sentence of the
    leading comment = description."""
    return [View(path.stem, _description(path.read_text(encoding="utf-8")), path)
            for path in sorted(resource("queries", "views").glob("*.sql"))]


#: a view read by a view: its name after FROM or JOIN (comments removed first)
_READS = re.compile(r'\b(?:FROM|JOIN)\s+"?(\w+)"?', re.IGNORECASE)


def in_dependency_order(found: list[View]) -> list[View]:
    """``found`` with every view after the views it reads (FROM / JOIN), otherwise in name order: each
    CREATE VIEW then binds at the first attempt (a view created before one it reads fails and is
    tried again, which cost a third of installing the views)."""
    by_name = {v.name: v for v in found}
    out: list[View] = []
    placed: set[str] = set()

    def place(v: View, path: tuple[str, ...]) -> None:
        if v.name in placed or v.name in path:  # (a cycle is left to the retries, which name it)
            return
        sql = re.sub(r"--[^\n]*", "", v.sql)
        for name in sorted({m.lower() for m in _READS.findall(sql)} & set(by_name) - {v.name}):
            place(by_name[name], (*path, v.name))
        placed.add(v.name)
        out.append(v)

    for v in found:
        place(v, ())
    return out


def view_columns() -> dict[str, list[str]]:
    """The columns of every view, from a database made in memory with today's schema and views
    (no database file needed)."""
    con = duckdb.connect()
    try:
        apply_migrations(con)
        install_views(con)
        out: dict[str, list[str]] = {}
        for table, column in con.execute(named("view_columns")).fetchall():
            out.setdefault(table, []).append(column)
        return out
    finally:
        con.close()


#: the view that carries the mark of the views installed (see :func:`install_views`)
_MARKED = "trials"


def _views_mark(macros: str, found: list[View]) -> str:
    digest = hashlib.sha256(macros.encode("utf-8"))
    for v in found:
        digest.update(f"\0{v.name}\0{v.sql}".encode("utf-8"))
    return "livemeta views sha256:" + digest.hexdigest()


def install_views(con: duckdb.DuckDBPyConnection, *, unless_current: bool = False) -> None:
    """(Re)create the macros and every view. Views may use one another: retry until all resolve.

    The views installed are marked with a hash of their text (a comment on one view, written
    last); ``unless_current``: nothing is done when that mark is today's (a writable connection
    that applied no migration: the views of this version are there already).
    """
    macros = resource("queries", "macros.sql").read_text(encoding="utf-8")
    found = views()
    mark = _views_mark(macros, found)
    if unless_current and con.execute(named("views_marker"), [_MARKED]).fetchall() == [(mark,)]:
        return
    con.execute(macros)
    pending = in_dependency_order(found)
    while pending:
        failed = []
        for v in pending:
            try:
                con.execute(f'CREATE OR REPLACE VIEW "{v.name}" AS\n{v.sql}')
            except duckdb.CatalogException as exc:
                failed.append((v, exc))
        if len(failed) == len(pending):
            v, exc = failed[0]
            raise LivemetaError(f"queries/views/{v.path.name}: {exc}")
        pending = [v for v, _ in failed]
    con.execute(named("views_mark").format(view=_MARKED, mark=mark))
