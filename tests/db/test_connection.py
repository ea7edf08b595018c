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
