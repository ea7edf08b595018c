from __future__ import annotations

import shutil

import pytest

from livemeta.db import apply_migrations, connect, migrations, schema_version
from livemeta.errors import LivemetaError


def test_migrations_are_numbered_without_gaps():
    """Numbered from 0000 without gaps."""
    found = migrations()
    newest = found[-1].version
    assert [m.version for m in found] == list(range(newest + 1))
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


# --- a database from another version of livemeta ----------------------------------------------

# every command that opens the database, read-only ones included (views/template never do)
def _commands(tmp_path):
    from livemeta.paths import resource

    from tests.conftest import REPO

    template = str(resource("ingest", "template.yaml"))
    study = str(REPO / "data" / "studies" / "contact-01.yaml")  # a study file of the project: ingest opens the database
    return [
        ["init"],
        ["build", "--project", str(REPO)],
        ["verify", "--project", str(REPO)],
        ["validate", template],
        ["validate", template, "--supersede"],
        ["ingest", study, "-m", "x", "--supersede", "--project", str(REPO)],
        ["ingest", study, "-m", "x", "--dry-run", "--supersede", "--project", str(REPO)],
        ["query", "select count(*) from trials"],
        ["pool", "os"],
        ["pool", "os", "--as-of", "1"],
        ["log"],
        ["diff"],
        ["cumulative", "os"],
        ["report", "--out", str(tmp_path / "report")],
    ]


def _future_db(path):
    """A database one migration ahead of this livemeta (as a newer livemeta would leave it)."""
    newest = migrations()[-1].version
    with connect(path) as con:
        con.execute(
            "INSERT INTO history.schema_migrations VALUES (?, 'from_the_future', 'x', now()::timestamp)", [newest + 1]
        )
    return newest


def _digest(path):
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_newer_database_is_refused_by_every_command(empty_db, tmp_path):
    from click.testing import CliRunner

    from livemeta.cli import main

    newest = _future_db(empty_db)
    before = _digest(empty_db)
    runner = CliRunner()
    for argv in _commands(tmp_path):
        result = runner.invoke(main, argv)
        shown = " ".join(argv[:2])
        assert result.exit_code == 1, f"{shown}: {result.output}"
        assert result.exception is None or isinstance(result.exception, SystemExit), f"{shown}: {result.exception!r}"
        assert f"schema version {newest + 1}" in result.output, f"{shown}: {result.output}"
        assert f"up to version {newest}" in result.output, f"{shown}: {result.output}"
        assert _digest(empty_db) == before, f"{shown} changed the database"
        assert not (tmp_path / "report").exists()
    with pytest.raises(LivemetaError, match=f"schema version {newest + 1}"):
        with connect(empty_db, read_only=True):
            pass


def _old_db(path, monkeypatch, version):
    """A database at an older schema version (migrations 0000..version, no views) holding one
    revision with the template trial, as an older livemeta would have left it."""
    import importlib

    import duckdb

    mig = importlib.import_module("livemeta.db.migrations")

    older = [m for m in mig.migrations() if m.version <= version]
    with monkeypatch.context() as m:
        m.setattr(mig, "migrations", lambda: older)
        con = duckdb.connect(str(path))
        try:
            assert mig.apply_migrations(con) == list(range(1, version + 1))
            con.execute("INSERT INTO history.revisions VALUES (1, now()::timestamp, 'a', 'old', 'build', '0.0.1')")
            con.execute(
                "INSERT INTO history.trials (valid_from, trial_id, name, design, status, inclusion, verified) "
                "VALUES (1, 'example-01', 'EXAMPLE-01', 'rct', 'completed', 'included', true)"
            )
        finally:
            con.close()


@pytest.mark.parametrize(
    "argv",
    [["validate", "TEMPLATE", "--supersede"], ["validate", "TEMPLATE"], ["query", "select 1"], ["log"], ["pool", "os", "--as-of", "1"]],
)
def test_an_older_database_says_run_init(argv, db_path, monkeypatch):
    from click.testing import CliRunner

    from livemeta.cli import main
    from livemeta.paths import resource

    _old_db(db_path, monkeypatch, 2)
    argv = [str(resource("ingest", "template.yaml")) if a == "TEMPLATE" else a for a in argv]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    newest = migrations()[-1].version
    assert f"schema version 2; this livemeta needs version {newest}" in result.output
    assert "run `livemeta init`" in result.output
    # and init upgrades it
    assert CliRunner().invoke(main, ["init"]).exit_code == 0
    with connect(db_path, read_only=True) as con:
        assert schema_version(con) == newest


def test_a_database_of_an_older_schema_is_refused_read_only_and_rebuilt_by_build(made_once, tmp_path):
    """A database that lacks the newest migration: read-only commands say how to upgrade it; `build`
    rebuilds it from the history (today's validation may read old commits otherwise, e.g. a
    study-file section the older livemeta refused), where an up-to-date one is left alone."""
    from livemeta import api
    from livemeta.errors import NotInitialised

    clone, db = _git_built_db(made_once, tmp_path)
    assert api.build(clone, db=db).mode == "up to date"
    newest = migrations()[-1].version
    with connect(db) as con:  # as if written before the newest migration existed
        con.execute("DELETE FROM history.schema_migrations WHERE version = ?", [newest])
    with pytest.raises(NotInitialised, match=f"schema version {newest - 1}, built from the project's git history by an "
                       f"older livemeta; this livemeta needs version {newest}") as e:
        api.pool(db)
    assert "run `livemeta build` in the project" in e.value.hint
    report = api.build(clone, db=db)
    assert report.mode == "rebuilt" and api.pool(db).stored == "identical"


def _gaps_columns(path) -> list[str]:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return [r[0] for r in con.execute("DESCRIBE evidence_gaps").fetchall()]
    finally:
        con.close()


def test_views_are_installed_again_only_when_their_mark_is_not_todays(empty_db):
    """A writable connection that applies no migration keeps the views when the mark (a hash of the
    macros and views, a comment on view trials) is today's, and installs them again when it is not."""
    import duckdb

    from livemeta.db.migrations import _views_mark, views
    from livemeta.paths import resource

    mark = _views_mark(resource("queries", "macros.sql").read_text(encoding="utf-8"), views())
    con = duckdb.connect(str(empty_db))
    assert con.execute("SELECT comment FROM duckdb_views() WHERE view_name = 'trials'").fetchall() == [(mark,)]
    con.execute("CREATE OR REPLACE VIEW evidence_gaps AS SELECT 1 AS stand_in")  # the mark stays on trials
    con.close()
    with connect(empty_db):
        pass
    assert _gaps_columns(empty_db) == ["stand_in"]  # mark current: nothing installed again

    con = duckdb.connect(str(empty_db))
    con.execute("COMMENT ON VIEW trials IS 'livemeta views sha256:of another version'")
    con.close()
    with connect(empty_db):
        pass
    assert "stand_in" not in _gaps_columns(empty_db)

    con = duckdb.connect(str(empty_db))  # replacing the marked view clears the mark: installed again
    con.execute("CREATE OR REPLACE VIEW evidence_gaps AS SELECT 1 AS stand_in")
    con.execute(f"CREATE OR REPLACE VIEW trials AS {next(v for v in views() if v.name == 'trials').sql}")
    con.close()
    with connect(empty_db):
        pass
    assert "stand_in" not in _gaps_columns(empty_db)


def test_migration_0009_records_the_rule_of_monitoring_stored_before_it(tmp_path):
    """A pooled estimate with a sequential monitoring stored before 0009 gets its target, model and
    adjustment from its monitoring_spec, and the over-run rule livemeta had then (the final boundary
    reused); rows without monitoring stay NULL."""
    import json

    import duckdb

    from livemeta.sql import named

    path = tmp_path / "pre-0009.duckdb"
    con = duckdb.connect(str(path))
    con.execute(migrations()[0].sql)
    for m in migrations()[1:9]:
        con.execute(m.sql)
        con.execute(named("migration_record"), [m.version, m.name, m.sha256, "2025-01-01"])
    con.execute("INSERT INTO history.revisions BY NAME SELECT 1 AS revision_id, TIMESTAMP '2025-01-01' AS created_at, "
                "'a' AS author, 'm' AS message, 'build' AS kind, '0.1.0' AS livemeta_version")
    spec = json.dumps({"target": 0.8, "model": "FE", "heterogeneity": "D2 (DL)", "adjustment": 0.48})
    for analysis, mon in (("pfs", spec), ("orr", None)):
        con.execute("INSERT INTO history.pooled_estimates BY NAME SELECT ? AS analysis_id, 1 AS revision_id, "
                    "'overall' AS stratum, TIMESTAMP '2025-01-01' AS computed_at, '0.1.0' AS livemeta_version, "
                    "'v' AS view_name, 'HR' AS measure, 'log' AS scale, 'FE' AS method, 'z' AS test, 0.95 AS level, "
                    "'{}' AS method_spec, 5 AS k, true AS converged, ? AS monitoring_spec", [analysis, mon])
    con.close()
    with connect(path) as c:
        assert schema_version(c) == migrations()[-1].version
        rows = dict((r[0], r[1:]) for r in c.execute(
            "SELECT analysis_id, monitoring_target, monitoring_model, monitoring_heterogeneity, monitoring_overrun "
            "FROM history.pooled_estimates").fetchall())
    assert rows == {"pfs": (0.8, "FE", "D2 (DL)", "final_boundary"), "orr": (None, None, None, None)}


# --- issue 21: upgrades that end in what a replay stores, and half-recorded migrations -------------


def _git_built_db(made_once, tmp_path):
    """A clone of this repository and the database `livemeta build` made of its history (replayed
    once per session, then copied: tests/conftest.py)."""
    from tests.conftest import copy_of_bundled

    proj = copy_of_bundled(made_once, tmp_path / "clone")
    return proj.root, proj.database


def test_init_refuses_to_upgrade_a_git_built_database_in_place_and_build_rebuilds_it(made_once, tmp_path, monkeypatch):
    """`init` on a database an older livemeta built from the git history (schema 4 in the issue) used
    to upgrade it in place; `verify` then never passed (numbers the older version stored, 11 pooled
    revisions against a replay's 7). Now init, and every command that would migrate it, refuses and
    says to rebuild; `build` rebuilds it, and the result verifies."""
    from click.testing import CliRunner

    from livemeta import api
    from livemeta.cli import main

    clone, db = _git_built_db(made_once, tmp_path)
    newest = migrations()[-1].version
    with connect(db) as con:  # as an older livemeta left it: the newest migrations not applied
        con.execute("DELETE FROM history.schema_migrations WHERE version >= 5")
    before = _digest(db)
    for argv in (["init", "--db", str(db)], ["ingest", str(clone / "data" / "studies" / "contact-01.yaml"), "-m", "x",
                                             "--supersede", "--project", str(clone), "--db", str(db)]):
        result = CliRunner().invoke(main, argv)
        assert result.exit_code == 1, result.output
        assert f"has schema version 4, built from the project's git history by an older livemeta; this livemeta needs " \
               f"version {newest} and does not upgrade such a database in place" in result.output
        assert "run `livemeta build` in the project" in result.output and "Traceback" not in result.output
        assert _digest(db) == before
    report = api.build(clone, db=db)
    assert report.mode == "rebuilt"
    assert api.verify(clone, db=db).ok


def test_an_old_database_without_git_history_is_still_upgraded_by_init(db_path, monkeypatch):
    from click.testing import CliRunner

    from livemeta.cli import main

    _old_db(db_path, monkeypatch, 4)  # legacy revisions, no commits: nothing to rebuild from
    assert CliRunner().invoke(main, ["init"]).exit_code == 0
    with connect(db_path, read_only=True) as con:
        assert schema_version(con) == migrations()[-1].version


@pytest.mark.parametrize("git_built", [False, True])
def test_a_half_recorded_migration_is_named_with_what_to_do(made_once, tmp_path, empty_db, git_built):
    """The newest migration's tables are there but its row in history.schema_migrations is not: was a
    traceback ("Table with name pooled_trials already exists")."""
    from click.testing import CliRunner

    from livemeta.cli import main

    db = _git_built_db(made_once, tmp_path)[1] if git_built else empty_db
    newest = migrations()[-1]
    with connect(db) as con:
        con.execute("DELETE FROM history.schema_migrations WHERE version = ?", [newest.version])
    before = _digest(db)
    result = CliRunner().invoke(main, ["init", "--db", str(db)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if git_built:  # a git-built database is rebuilt whatever happened to it
        assert "built from the project's git history by an older livemeta" in result.output
    else:
        assert f"migration schema/{newest.path.name} is half recorded in this database: what it creates is there " \
               "already" in result.output
        assert f"history.schema_migrations has no row for version {newest.version}" in result.output
    assert "`livemeta build`" in result.output
    assert _digest(db) == before


def test_views_are_installed_after_the_views_they_read():
    """install_views creates each view once, in dependency order: none fails and is tried again."""
    import duckdb

    from livemeta.db.migrations import apply_migrations, in_dependency_order, views
    from livemeta.paths import resource

    con = duckdb.connect(":memory:")
    apply_migrations(con)
    con.execute(resource("queries", "macros.sql").read_text(encoding="utf-8"))
    ordered = in_dependency_order(views())
    assert sorted(v.name for v in ordered) == sorted(v.name for v in views())
    for v in ordered:  # a CatalogException here: a view created before one it reads
        con.execute(f'CREATE VIEW "{v.name}" AS\n{v.sql}')
    position = {v.name: i for i, v in enumerate(ordered)}
    assert position["trials"] < position["analysis_rct_hr"] < position["analysis_rct_os"]
    assert position["analysis_risk_of_bias"] < position["analysis_rct_hr"]
