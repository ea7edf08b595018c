"""A disk that fills up while livemeta writes: every failure says what was and was not written,
never shows a traceback, and leaves a database that opens and says the same.

The disk is made to fill at each point where ingest, pool and build commit (an injected failure
that behaves as DuckDB does on a full disk: the commit fails and rolls back, and so does every
later write), and then for real on a small tmpfs when the tests may mount one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys

import duckdb
import pytest
from click.testing import CliRunner

from livemeta import api
from livemeta.cli import main
from livemeta.db import connection
from livemeta.paths import resource

TEMPLATE = resource("ingest", "template.yaml")
EXAMPLE = resource("ingest", "examples", "single-arm.yaml")
FULL = 'TransactionContext Error: Failed to commit: Could not write file "{wal}": No space left on device'
_READS = {duckdb.StatementType.SELECT, duckdb.StatementType.PRAGMA, duckdb.StatementType.SET,
          duckdb.StatementType.VARIABLE_SET, duckdb.StatementType.EXPLAIN, duckdb.StatementType.TRANSACTION}


class _FillingDisk:
    """A real connection whose disk is full from the ``fail_at``-th commit on (0: never).

    A commit is a COMMIT or a write outside a transaction (DDL, the bootstrap migration). When it
    fails, the transaction is rolled back first, as DuckDB does when it cannot write its WAL.
    ``points`` records every commit seen, for choosing where to fail.
    """

    points: list[str] = []

    def __init__(self, con, path, fail_at):
        self._con, self._wal, self._fail_at = con, f"{path}.wal", fail_at
        self._in_tx = False

    def execute(self, sql, *args, **kwargs):
        text = sql.strip().upper()
        if text.startswith("BEGIN"):
            self._in_tx = True
        writes = any(st.type not in _READS for st in duckdb.extract_statements(sql))
        is_commit = text == "COMMIT" or (not self._in_tx and writes)
        if text in ("COMMIT", "ROLLBACK"):
            self._in_tx = False
        if is_commit:
            _FillingDisk.points.append(" ".join(sql.split())[:60])
            if self._fail_at and len(_FillingDisk.points) >= self._fail_at:
                if text == "COMMIT":
                    self._con.execute("ROLLBACK")
                raise duckdb.TransactionException(FULL.format(wal=self._wal))
        return self._con.execute(sql, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._con, name)


@pytest.fixture
def filling_disk(monkeypatch):
    """``fill(n)``: from now on the n-th commit of any connection fails as on a full disk."""
    real_open = connection.open_connection

    def fill(fail_at):
        _FillingDisk.points = []

        def open_(path, *, read_only, wait):
            con = real_open(path, read_only=read_only, wait=wait)
            return con if read_only else _FillingDisk(con, path, fail_at)

        monkeypatch.setattr(connection, "open_connection", open_)

    yield fill
    monkeypatch.setattr(connection, "open_connection", real_open)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A database at revision 1 (the template trial), pooled."""
    path = tmp_path_factory.mktemp("full") / "seed.duckdb"
    api.ingest(path, [TEMPLATE], message="seed", author="tester")
    return path


def _state(db) -> tuple[int, list[int]]:
    """The current revision and the revisions with stored estimates, read with a fresh connection."""
    with connection.connect(db, read_only=True) as con:
        rev = con.execute("SELECT max(revision_id) FROM history.revisions").fetchone()[0]
        pooled = [r[0] for r in con.execute(
            "SELECT DISTINCT revision_id FROM history.pooled_estimates ORDER BY 1").fetchall()]
    return rev, pooled


def _run(argv):
    result = CliRunner().invoke(main, argv)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


_POINTS: dict[str, list[str]] = {}


def _commit_points(filling_disk, seeded, db, argv, key) -> list[str]:
    """The commits of a successful run of ``argv`` on a copy of ``seeded`` (once per command)."""
    if key not in _POINTS:
        shutil.copy(seeded, db)
        filling_disk(0)
        assert _run(argv).exit_code == 0
        _POINTS[key] = list(_FillingDisk.points)
    shutil.copy(seeded, db)
    for leftover in db.parent.glob("*.wal"):
        leftover.unlink()
    return _POINTS[key]


def test_commit_points_are_where_the_data_is(filling_disk, seeded, tmp_path):
    """The injected failure reaches every commit of an ingest: set-up, the batch, the estimates."""
    db = tmp_path / "db.duckdb"
    points = _commit_points(filling_disk, seeded, db, ["ingest", str(EXAMPLE), "-m", "x", "--db", str(db)], "ingest")
    commits = [i for i, p in enumerate(points) if p == "COMMIT"]
    assert len(commits) == 2  # the batch, then the estimates
    assert any(p.startswith("CREATE OR REPLACE VIEW") for p in points[: commits[0]])


def _ingest_failing_at(filling_disk, seeded, tmp_path, which):
    db = tmp_path / "db.duckdb"
    argv = ["ingest", str(EXAMPLE), "-m", "x", "--db", str(db)]
    points = _commit_points(filling_disk, seeded, db, argv, "ingest")
    commits = [i for i, p in enumerate(points) if p == "COMMIT"]
    at = {"setup": 0, "batch": commits[0], "pool setup": commits[0] + 1, "estimates": commits[1]}[which]
    filling_disk(at + 1)
    result = _run(argv)
    filling_disk(0)
    return db, result


def test_full_disk_while_preparing_the_database(filling_disk, seeded, tmp_path):
    db, result = _ingest_failing_at(filling_disk, seeded, tmp_path, "setup")
    assert result.exit_code == 1
    assert f"could not prepare database {db} for writing" in result.output
    assert "No space left on device" in result.output and "nothing of this batch was written" in result.output
    assert _state(db) == (1, [1])


def test_full_disk_while_writing_the_batch(filling_disk, seeded, tmp_path):
    db, result = _ingest_failing_at(filling_disk, seeded, tmp_path, "batch")
    assert result.exit_code == 1
    assert "revision 2 was not written" in result.output and "No space left on device" in result.output
    assert "nothing of this batch was written; the database is still at revision 1" in result.output
    assert "free some disk space" in result.output
    assert _state(db) == (1, [1])


@pytest.mark.parametrize("which", ["pool setup", "estimates"])
def test_full_disk_while_storing_the_estimates(filling_disk, seeded, tmp_path, which):
    db, result = _ingest_failing_at(filling_disk, seeded, tmp_path, which)
    assert result.exit_code == 1
    assert "revision 2 was written, but pooling it failed" in result.output
    assert "No space left on device" in result.output and "run `livemeta pool`" in result.output
    if which == "estimates":
        assert "the pooled estimates of revision 2 were not stored" in result.output
    assert _state(db) == (2, [1])
    # once there is room again, `livemeta pool` stores them
    assert _run(["pool", "--db", str(db)]).exit_code == 0
    assert _state(db) == (2, [1, 2])


def test_full_disk_during_build_leaves_the_old_database(filling_disk, seeded, tmp_path):
    db = tmp_path / "db.duckdb"
    shutil.copy(seeded, db)
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    studies = tmp_path / "studies"
    studies.mkdir()
    shutil.copy(TEMPLATE, studies / "template.yaml")
    shutil.copy(EXAMPLE, studies / "single-arm.yaml")
    argv = ["build", "--studies", str(studies), "--db", str(db)]
    points = _commit_points(filling_disk, seeded, db, argv, "build")
    commits = [i for i, p in enumerate(points) if p == "COMMIT"]
    for at in (0, commits[-2], commits[-1]):  # creating the new file, its batch, its estimates
        filling_disk(at + 1)
        result = _run(argv)
        assert result.exit_code == 1, result.output
        assert f"the build failed; {db} was left as it was" in result.output, result.output
        assert "No space left on device" in result.output
        assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
        assert sorted(p.name for p in tmp_path.iterdir()) == ["db.duckdb", "studies"]
    filling_disk(0)


# --- a real full disk ---------------------------------------------------------------------------

_CAN_MOUNT = sys.platform == "linux" and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("mount")


@pytest.fixture
def small_tmpfs(tmp_path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(mnt, leave: int) -> None:
    free = shutil.disk_usage(mnt).free
    if free > leave:
        with open(mnt / "filler", "wb") as fh:
            fh.write(b"\0" * (free - leave))


@pytest.mark.skipif(not _CAN_MOUNT, reason="mounting a tmpfs needs root on Linux; the injected failures above cover the same paths")
def test_ingest_on_a_really_full_disk(small_tmpfs, seeded):
    """Ingest with no room left at all, and with room for the batch but not for the estimates."""
    seen = set()
    for leave_kb in (0, 256):
        db = small_tmpfs / "db.duckdb"
        for old in small_tmpfs.iterdir():
            old.unlink()
        shutil.copy(seeded, db)
        _fill(small_tmpfs, leave_kb * 1024)
        out = subprocess.run([sys.executable, "-m", "livemeta", "ingest", str(EXAMPLE), "-m", "x", "--db", str(db)],
                             capture_output=True, text=True, env={**os.environ, "LIVEMETA_AUTHOR": "tester"})
        (small_tmpfs / "filler").unlink()
        assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
        assert "No space left on device" in out.stderr and "free some disk space" in out.stderr
        rev, pooled = _state(db)  # the database still opens, and holds what the message says
        if rev == 1:
            assert "nothing of this batch was written" in out.stderr, out.stderr
            seen.add("nothing written")
        else:
            assert "revision 2 was written, but pooling it failed" in out.stderr, out.stderr
            seen.add("revision written, estimates not")
        assert pooled == [1]
    assert seen == {"nothing written", "revision written, estimates not"}


def test_full_disk_while_migrating_a_new_database(filling_disk, tmp_path):
    """init on a new file: the first migration's COMMIT fails (and DuckDB rolls it back itself)."""
    db = tmp_path / "new.duckdb"
    filling_disk(0)
    assert _run(["init", "--db", str(db)]).exit_code == 0
    points = list(_FillingDisk.points)
    db.unlink()
    filling_disk(points.index("COMMIT") + 1)
    result = _run(["init", "--db", str(db)])
    filling_disk(0)
    assert result.exit_code == 1
    assert f"could not prepare database {db} for writing" in result.output and "No space left" in result.output
    assert _run(["init", "--db", str(db)]).exit_code == 0  # once there is room, init finishes the job
