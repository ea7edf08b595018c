"""``connect``: the database opened for the length of a ``with`` block, migrated and with the current
views when writable (the connection primitives are in :mod:`livemeta.db.connection`, the schema in
:mod:`livemeta.db.migrations`; this module is the one above both)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb

from . import connection
from .migrations import apply_migrations, check_schema, install_views


@contextlib.contextmanager
def connect(
    path: Path | str, *, read_only: bool = False, wait: float = 10.0, migrate: bool = True
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the database for the length of a ``with`` block.

    A writable connection is migrated to the newest schema and gets the current views before it
    is handed out; a read-only one must find a livemeta database already there, at the newest
    schema (with ``migrate=False``: at any schema, for a look before an upgrade).
    """
    path = Path(path)
    con = connection.open_connection(path, read_only=read_only, wait=wait)
    try:
        with connection.storage_errors(path):
            check_schema(con, path, writable=not read_only, migrating=not read_only and migrate)
            if not read_only and migrate:
                with connection.storage_errors(path, f"could not prepare database {path} for writing (its schema and views)"):
                    applied = apply_migrations(con)
                    install_views(con, unless_current=not applied)
            yield con
    finally:
        con.close()
