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


# --- a database on a read-only file system (issue 21) -------------------------------------------

READ_ONLY = 'IO Error: Cannot open file "{path}": Read-only file system'


def _check_not_damaged(output: str, db) -> None:
    assert f"cannot open database {db} for writing: the file system is read-only; the file itself is not damaged" \
        in output, output
    assert "damaged (truncated or corrupted)" not in output and "restore it" not in output, output
    assert "Traceback" not in output


def test_a_read_only_file_system_is_not_called_damage(pooled_db, tmp_path, monkeypatch):
    """DuckDB's refusal to open a file for writing on a read-only file system (as it words it),
    injected: the message says the file is fine and what still works."""
    import shutil

    import duckdb
    from click.testing import CliRunner

    from livemeta.cli import main

    db = tmp_path / "ro.duckdb"
    shutil.copy(pooled_db, db)
    real = duckdb.connect

    def connect_(path, read_only=False, **kw):
        if not read_only and str(path) == str(db):
            raise duckdb.IOException(READ_ONLY.format(path=path))
        return real(path, read_only=read_only, **kw)

    monkeypatch.setattr(duckdb, "connect", connect_)
    result = CliRunner().invoke(main, ["init", "--db", str(db)])
    assert result.exit_code == 1
    _check_not_damaged(result.output, db)
    assert "query, pool, log" in result.output
    assert CliRunner().invoke(main, ["query", "select count(*) from trials", "--db", str(db)]).exit_code == 0


_CAN_MOUNT = sys.platform == "linux" and hasattr(__import__("os"), "geteuid") and __import__("os").geteuid() == 0


@pytest.mark.skipif(not _CAN_MOUNT, reason="mounting a file system read-only needs root on Linux; the injected "
                    "failure above covers the same path")
def test_a_database_on_a_really_read_only_file_system(pooled_db, tmp_path):
    """A real read-only mount (tmpfs, remounted ro): writing commands say so, reading ones work."""
    import shutil

    mnt = tmp_path / "ro"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        db = mnt / "db.duckdb"
        shutil.copy(pooled_db, db)
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        run = lambda *a: subprocess.run([sys.executable, "-m", "livemeta", *a, "--db", str(db)],  # noqa: E731
                                        capture_output=True, text=True)
        out = run("init")
        assert out.returncode == 1, out.stderr
        _check_not_damaged(out.stderr, db)
        out = run("query", "select count(*) as n from trials")
        assert out.returncode == 0 and "(1 row)" in out.stdout, out.stderr
        out = run("pool", "os")
        assert out.returncode == 0, out.stderr
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)
