from __future__ import annotations

import shutil

import pytest

from livemeta.db import apply_migrations, connect, migrations, schema_version
from livemeta.errors import LivemetaError


def test_migrations_are_numbered_without_gaps():
    found = migrations()
    assert [m.version for m in found] == list(range(len(found)))
    assert found[0].name == "migrations" and found[1].name == "initial"


def test_init_is_idempotent(empty_db):
    newest = migrations()[-1].version
    with connect(empty_db) as con:
        assert schema_version(con) == newest
        assert apply_migrations(con) == []  # nothing left to apply
        n = con.execute("SELECT count(*) FROM history.schema_migrations").fetchone()[0]
    assert n == newest


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


def test_a_database_of_an_older_schema_is_refused_read_only_and_rebuilt_by_build(tmp_path):
    """A database that lacks the newest migration: read-only commands say how to upgrade it; `build`
    rebuilds it from the history (today's validation may read old commits otherwise, e.g. a
    study-file section the older livemeta refused), where an up-to-date one is left alone."""
    import subprocess

    from livemeta import api
    from livemeta.errors import NotInitialised
    from tests.conftest import REPO

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    db = tmp_path / "db.duckdb"
    api.build(clone, db=db)
    assert api.build(clone, db=db).mode == "up to date"
    newest = migrations()[-1].version
    with connect(db) as con:  # as if written before the newest migration existed
        con.execute("DELETE FROM history.schema_migrations WHERE version = ?", [newest])
    with pytest.raises(NotInitialised, match=f"schema version {newest - 1}; this livemeta reads version {newest}") as e:
        api.pool(db)
    assert "livemeta build" in e.value.hint
    report = api.build(clone, db=db)
    assert report.mode == "rebuilt" and api.pool(db).stored == "identical"
