"""The Python API behind the command line: every ``livemeta`` command is one call here.

Heavy modules (great-expectations, pandas, matplotlib, the pooling engine) are imported inside the
functions that need them, so that ``livemeta query`` and ``livemeta --help`` start fast.
"""

from __future__ import annotations

import os
from pathlib import Path

from .db import connect, list_revisions, views
from .db.revisions import Revision
from .errors import LivemetaError
from .paths import resource
from .query import QueryResult, run_query

__all__ = [
    "build",
    "init",
    "ingest",
    "query",
    "revisions",
    "study_files",
    "template_text",
    "validate",
    "view_list",
]


def init(db_path: Path | str, *, wait: float = 10.0) -> int:
    """Create or upgrade the database at ``db_path``; returns its schema version. Idempotent."""
    from .db import schema_version

    with connect(db_path, wait=wait) as con:
        return schema_version(con)


def template_text() -> str:
    """The annotated study-file template (``ingest/template.yaml``)."""
    return resource("ingest", "template.yaml").read_text(encoding="utf-8")


def study_files(folder: Path | str | None = None) -> list[Path]:
    """The study files (``*.yaml``, ``*.yml``, ``*.json``) of a folder, default ``data/studies``."""
    folder = Path(folder) if folder else resource("data", "studies")
    if not folder.is_dir():
        raise LivemetaError(f"{folder}: not a folder of study files")
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml", ".json") and p.is_file())
    if not files:
        raise LivemetaError(f"{folder}: no study files (*.yaml, *.json) found")
    return files


def validate(paths: list[Path | str], *, db_path: Path | str | None = None, wait: float = 10.0):
    """Validate study files without writing; against the database too when ``db_path`` exists."""
    from .ingest import validate_files

    if db_path is not None and Path(db_path).exists():
        with connect(db_path, read_only=True, wait=wait) as con:
            return validate_files(paths, con=con)
    return validate_files(paths)


def ingest(
    db_path: Path | str,
    paths: list[Path | str],
    *,
    message: str,
    author: str | None = None,
    supersede: bool = False,
    dry_run: bool = False,
    wait: float = 10.0,
):
    """Validate and add study files as one revision (all or nothing)."""
    from .db import default_author
    from .ingest import ingest_files

    return ingest_files(
        db_path,
        paths,
        message=message,
        author=author or default_author(),
        supersede=supersede,
        dry_run=dry_run,
        wait=wait,
    )


def build(
    db_path: Path | str,
    *,
    studies: Path | str | None = None,
    author: str | None = None,
    wait: float = 10.0,
):
    """(Re)create the database from a folder of study files (default ``data/studies``).

    The new database is built beside the old one and moved into place only when complete, so a
    failed build leaves the old database as it was.
    """
    from .db import default_author
    from .ingest import ingest_files

    db_path = Path(db_path)
    files = study_files(studies)
    if db_path.exists():  # make sure nobody is writing it before we replace it
        with connect(db_path, wait=wait, migrate=False):
            pass
    tmp = db_path.with_name(db_path.name + ".building")
    for leftover in (tmp, Path(str(tmp) + ".wal")):
        leftover.unlink(missing_ok=True)
    try:
        report = ingest_files(
            tmp,
            files,
            message=f"build from {len(files)} study files",
            author=author or default_author(),
            kind="build",
            wait=wait,
        )
        os.replace(tmp, db_path)
        Path(str(db_path) + ".wal").unlink(missing_ok=True)
    finally:
        for leftover in (tmp, Path(str(tmp) + ".wal")):
            leftover.unlink(missing_ok=True)
    return report


def query(
    db_path: Path | str, sql: str, *, as_of: str | int | None = None, wait: float = 10.0, timeout: float = 30.0
) -> QueryResult:
    """Run read-only SQL (see :func:`livemeta.query.run_query`)."""
    return run_query(db_path, sql, as_of=as_of, wait=wait, timeout=timeout)


def view_list():
    """The named views of ``queries/views/`` with their one-line descriptions."""
    return views()


def revisions(db_path: Path | str, *, wait: float = 10.0) -> list[Revision]:
    with connect(db_path, read_only=True, wait=wait) as con:
        return list_revisions(con)
