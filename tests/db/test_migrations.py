from __future__ import annotations

import shutil

import pytest

from livemeta.db import apply_migrations, connect, migrations, schema_version
from livemeta.db.migrations import RESERVED
from livemeta.errors import LivemetaError


def test_migrations_are_numbered_without_gaps():
    found = migrations()
    versions = [m.version for m in found]
    # no gap but a number reserved for another branch
    assert set(range(versions[-1] + 1)) - set(versions) <= set(RESERVED)
    assert versions == sorted(set(versions))
    assert found[0].name == "migrations" and found[1].name == "initial"


def test_init_is_idempotent(empty_db):
    newest = migrations()[-1].version
    with connect(empty_db) as con:
        assert schema_version(con) == newest
        assert apply_migrations(con) == []  # nothing left to apply
        n = con.execute("SELECT count(*) FROM history.schema_migrations").fetchone()[0]
    assert n == len(migrations()) - 1  # every migration but the bootstrap 0000


def test_an_edited_applied_migration_is_refused(empty_db, tmp_path, monkeypatch):
    from livemeta import paths

    home = tmp_path / "home"
    for d in ("schema", "queries", "ingest"):
        shutil.copytree(paths.resource(d), home / d)
    (home / "schema" / "0001_initial.sql").write_text(
        (home / "schema" / "0001_initial.sql").read_text() + "\n-- edited\n"
    )
    monkeypatch.setenv("LIVEMETA_HOME", str(home))
    with pytest.raises(LivemetaError, match="0001_initial.sql changed after it was applied"):
        with connect(empty_db):
            pass


def test_read_only_on_missing_file_says_how_to_create_it(tmp_path):
    with pytest.raises(LivemetaError, match="livemeta build"):
        with connect(tmp_path / "nope.duckdb", read_only=True):
            pass
