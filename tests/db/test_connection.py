"""DuckDB's file lock, tested with two real processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from livemeta.db import connect
from livemeta.errors import DatabaseLocked

HOLDER = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    con.close()
    print("released", flush=True)
    """
)


def _hold(path, seconds):
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_locked_database_names_the_holder_after_waiting(empty_db):
    proc = _hold(empty_db, 30)
    try:
        start = time.monotonic()
        with pytest.raises(DatabaseLocked) as info:
            with connect(empty_db, read_only=True, wait=0.6):
                pass
        waited = time.monotonic() - start
        assert f"PID {proc.pid}" in str(info.value) or f"process {proc.pid}" in str(info.value)
        assert "--wait" in str(info.value)
        assert 0.5 <= waited < 5
    finally:
        proc.kill()
        proc.wait()


def test_waits_for_a_lock_to_be_released(empty_db):
    proc = _hold(empty_db, 1.0)
    try:
        with connect(empty_db, read_only=True, wait=20) as con:  # retries until the holder exits
            assert con.execute("SELECT count(*) FROM history.revisions").fetchone() == (0,)
        assert proc.wait(timeout=20) == 0
    finally:
        proc.kill()


def test_cli_reports_the_lock_without_traceback(empty_db):
    proc = _hold(empty_db, 30)
    try:
        out = subprocess.run(
            [sys.executable, "-m", "livemeta", "query", "select 1", "--db", str(empty_db), "--wait", "0.3"],
            capture_output=True,
            text=True,
        )
        assert out.returncode == 3
        assert f"locked by process {proc.pid}" in out.stderr
        assert "Traceback" not in out.stderr
    finally:
        proc.kill()
        proc.wait()


# --- a damaged database file ------------------------------------------------------------------


@pytest.fixture(scope="module")
def pooled_db(tmp_path_factory):
    """A database holding the template trial (revision 1) and an example trial (revision 2), pooled."""
    from livemeta import api
    from livemeta.ingest import ingest_files
    from livemeta.paths import resource

    path = tmp_path_factory.mktemp("damage") / "seed.duckdb"
    ingest_files(path, [resource("ingest", "template.yaml")], message="seed", author="tester")
    api.pool(path)
    ingest_files(path, [resource("ingest", "examples", "single-arm.yaml")], message="second", author="tester")
    api.pool(path)
    return path


def _damaged(src, dst, kind, at):
    import shutil

    shutil.copy(src, dst)
    if kind == "truncated":
        with open(dst, "r+b") as fh:
            fh.truncate(at)
    else:
        with open(dst, "r+b") as fh:
            fh.seek(at)
            fh.write(b"GARBAGE!" * 8)
    return dst


# damage that DuckDB notices on opening, and damage it notices only when a command reads there
DAMAGE = [("truncated", 0), ("truncated", 5000), ("truncated", 300_000), ("truncated", 1_000_000), ("garbage", 4096)]


@pytest.mark.parametrize("kind,at", DAMAGE)
def test_a_damaged_database_gives_a_clear_message_for_every_command(pooled_db, tmp_path, kind, at):
    from click.testing import CliRunner

    from livemeta.cli import main
    from livemeta.paths import resource

    template = str(resource("ingest", "template.yaml"))
    commands = [
        ["query", "select * from outcomes"], ["log"], ["pool", "os"], ["pool", "os", "--as-of", "1"], ["init"],
        ["diff"], ["cumulative", "os"], ["validate", template, "--supersede"],
    ]
    db = _damaged(pooled_db, tmp_path / "damaged.duckdb", kind, at)
    runner = CliRunner()
    for argv in commands:
        result = runner.invoke(main, [*argv, "--db", str(db)])
        shown = " ".join(argv[:2])
        assert result.exception is None or isinstance(result.exception, SystemExit), f"{shown}: {result.exception!r}"
        assert result.exit_code == 1, f"{shown}: {result.output}"
        assert f"database {db}" in result.output and "damaged" in result.output, f"{shown}: {result.output}"
        assert "`livemeta build`" in result.output, f"{shown}: {result.output}"


@pytest.mark.parametrize("kind,at", [("truncated", 5000), ("garbage", 4096)])
def test_build_replaces_a_damaged_database(pooled_db, project, kind, at):
    """The remedy the message names works: `livemeta build` over the damaged file, which it keeps
    aside (it could hold history no repository has)."""
    import shutil

    from click.testing import CliRunner

    from livemeta.cli import main
    from livemeta.paths import resource

    db = _damaged(pooled_db, project.database, kind, at)
    shutil.copy(resource("ingest", "template.yaml"), project.studies / "template.yaml")
    subprocess.run(["git", "add", "studies"], cwd=project.root, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "add the template trial"], cwd=project.root, check=True)
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 0, result.output
    assert "the old database could not be read" in result.output and "it was rebuilt" in result.output
    assert len(list(db.parent.glob("livemeta.duckdb.*.bak"))) == 1
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT trial_id FROM trials").fetchall() == [("example-01",)]
