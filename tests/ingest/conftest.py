"""Fixtures of the ingest tests: a database holding the template trial, and its table state."""

from __future__ import annotations

from pathlib import Path

import pytest

from livemeta.paths import resource

HERE = Path(__file__).resolve().parent
TEMPLATE = resource("ingest", "template.yaml")
BASE = HERE / "base.yaml"


def table_state(db_path) -> dict[str, tuple[int, int]]:
    """Row count and content checksum of every ``history.*`` table."""
    from livemeta.db import connect
    from livemeta.ingest.checks import sql

    with connect(db_path, read_only=True) as con:
        tables = [r[0] for r in con.execute(sql("history_tables")).fetchall()]
        return {t: tuple(con.execute(sql("table_checksum", table=t)).fetchone()) for t in tables}


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory):
    """A database with one revision: the template trial (example-01) and base.yaml (bad-01)."""
    from livemeta.ingest import ingest_files

    path = tmp_path_factory.mktemp("ingest") / "seeded.duckdb"
    report = ingest_files(path, [TEMPLATE, BASE], message="seed", author="tester")
    assert report.revision == 1
    return path
