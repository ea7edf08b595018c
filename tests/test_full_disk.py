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
from livemeta.db import connect, connection
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
    """An evidence project (a git repository) at revision 2 (the template trial), built and pooled."""
    from livemeta.project import new_project

    proj, _ = new_project(tmp_path_factory.mktemp("full") / "seed", name="Full disk")
    shutil.copy(TEMPLATE, proj.studies / "template.yaml")
    api.ingest([proj.studies / "template.yaml"], message="seed", project=proj)
    return proj.root


@pytest.fixture
def work(seeded, tmp_path, monkeypatch):
    """A fresh copy of the seeded project as the working directory; returns its database path."""
    root = tmp_path / "project"
    shutil.copytree(seeded, root)
    monkeypatch.chdir(root)
    monkeypatch.delenv("LIVEMETA_DB", raising=False)
    shutil.copy(EXAMPLE, root / "studies" / "single-arm.yaml")
    return root / "livemeta.duckdb"


def _state(db) -> tuple[int, list[int]]:
    """The current revision and the revisions with stored estimates, read with a fresh connection."""
    with connect(db, read_only=True) as con:
        rev = con.execute("SELECT max(revision_id) FROM history.revisions").fetchone()[0]
        pooled = [r[0] for r in con.execute(
            "SELECT DISTINCT revision_id FROM history.pooled_estimates ORDER BY 1").fetchall()]
    return rev, pooled


def _head(root) -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()


def _run(argv):
    result = CliRunner().invoke(main, argv)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


INGEST = ["ingest", "studies/single-arm.yaml", "-m", "add the single-arm example"]


def _commit_points(filling_disk, argv) -> list[str]:
    """The commits (to the database) of a successful run of ``argv``, in a throw-away copy."""
    import tempfile

    here = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(here, f"{tmp}/p")
        os.chdir(f"{tmp}/p")
        try:
            filling_disk(0)
            assert _run(argv).exit_code == 0
        finally:
            os.chdir(here)
    return list(_FillingDisk.points)


def _clear_views_mark(db) -> None:
    """Make the database's views look out of date (as after an upgrade of livemeta): the next
    writable connection installs them again."""
    con = duckdb.connect(str(db))
    try:
        con.execute("COMMENT ON VIEW trials IS NULL")
    finally:
        con.close()


def test_commit_points_are_where_the_data_is(filling_disk, work):
    """The injected failure reaches every database commit of an ingest: set-up (the bootstrap
    migration; the views too when they are not this version's), then the revision (its rows and its
    estimates in one transaction)."""
    points = _commit_points(filling_disk, INGEST)
    commits = [i for i, p in enumerate(points) if p == "COMMIT"]
    assert len(commits) == 1 and commits[0] > 0
    assert not any(p.startswith("CREATE OR REPLACE VIEW") for p in points)  # this version's views: kept
    _clear_views_mark(work)
    points = _commit_points(filling_disk, INGEST)
    commits = [i for i, p in enumerate(points) if p == "COMMIT"]
    assert len(commits) == 1
    assert any(p.startswith("CREATE OR REPLACE VIEW") for p in points[: commits[0]])


def test_full_disk_while_preparing_the_database_commits_nothing(filling_disk, work):
    head = _head(work.parent)
    filling_disk(1)
    result = _run(INGEST)
    filling_disk(0)
    assert result.exit_code == 1
    assert f"could not prepare database {work} for writing" in result.output
    assert "No space left on device" in result.output
    assert "nothing was committed to git or written to the database" in result.output
    assert _head(work.parent) == head and _state(work) == (2, [1, 2])


def test_full_disk_while_writing_the_revision(filling_disk, work):
    """The commit is made (git is the source of truth), the database could not record it: it says
    so, stays at the revision before, and `livemeta build` records it once there is room."""
    head = _head(work.parent)
    points = _commit_points(filling_disk, INGEST)
    filling_disk(points.index("COMMIT") + 1)
    result = _run(INGEST)
    filling_disk(0)
    assert result.exit_code == 1
    new = _head(work.parent)
    assert new != head
    assert f"committed {new[:9]} to git (the evidence is safe there), but the database could not record it" in result.output
    assert f"revision 3 (commit {new[:9]}) was not written" in result.output
    assert "No space left on device" in result.output and "the database is still at revision 2" in result.output
    assert "run `livemeta build`" in result.output
    assert _state(work) == (2, [1, 2])
    assert _run(["build"]).exit_code == 0
    assert _state(work) == (3, [1, 2, 3])
    assert api.verify(work.parent).ok


def test_full_disk_during_build_leaves_the_old_database(filling_disk, work):
    """A rebuild (here: the database followed a commit that was since replaced) writes a new file
    beside the old one; a full disk at any of its commits leaves the old file as it was."""
    root = work.parent
    subprocess.run(["git", "commit", "-q", "--amend", "-m", "seed (reworded)"], cwd=root, check=True)
    digest = hashlib.sha256(work.read_bytes()).hexdigest()
    points = _commit_points(filling_disk, ["build"])
    commits = [i for i, p in enumerate(points) if p == "COMMIT"]
    for at in (0, commits[0], commits[-1]):  # creating the new file, its first revision, its last
        filling_disk(at + 1)
        result = _run(["build"])
        filling_disk(0)
        assert result.exit_code == 1, result.output
        assert f"the build failed; {work} was left as it was" in result.output, result.output
        assert "No space left on device" in result.output
        assert hashlib.sha256(work.read_bytes()).hexdigest() == digest
        assert sorted(p.name for p in root.glob("livemeta.duckdb*")) == ["livemeta.duckdb"]


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
def test_ingest_on_a_really_full_disk(small_tmpfs, seeded, tmp_path):
    """The database on a full tmpfs (the repository elsewhere), with less and less room left. A
    database whose views this version must install first (as after an upgrade): with no room,
    nothing is committed. One with this version's views writes nothing before the git commit: with
    little room, the commit is made and the database says it could not record it. With enough, the
    ingest succeeds. No traceback, and the database always opens and holds what the message says."""
    seen = {True: set(), False: set()}
    for views_to_install in (True, False):
        for leave_kb in range(0, 320, 16):
            root = tmp_path / f"project-{views_to_install}-{leave_kb}"
            shutil.copytree(seeded, root)
            shutil.copy(EXAMPLE, root / "studies" / "single-arm.yaml")
            for old in small_tmpfs.iterdir():
                old.unlink()
            db = small_tmpfs / "db.duckdb"
            shutil.copy(root / "livemeta.duckdb", db)
            if views_to_install:
                _clear_views_mark(db)
            head = _head(root)
            _fill(small_tmpfs, leave_kb * 1024)
            out = subprocess.run([sys.executable, "-m", "livemeta", *INGEST, "--db", str(db)], cwd=root,
                                 capture_output=True, text=True,
                                 env={k: v for k, v in os.environ.items() if k != "LIVEMETA_DB"})
            (small_tmpfs / "filler").unlink()
            assert "Traceback" not in out.stderr, out.stderr
            if out.returncode == 0:
                assert _state(db) == (3, [1, 2, 3])
                seen[views_to_install].add("written")
                break
            assert out.returncode == 1 and "No space left on device" in out.stderr, out.stderr
            assert _state(db) == (2, [1, 2])  # the database still opens, and holds what the message says
            if _head(root) == head:
                assert "nothing was committed to git or written to the database" in out.stderr, out.stderr
                seen[views_to_install].add("nothing committed")
            else:
                assert "to git (the evidence is safe there), but the database could not record it" in out.stderr, out.stderr
                seen[views_to_install].add("committed, not recorded")
    assert seen[True] >= {"nothing committed", "written"}
    assert seen[False] == {"committed, not recorded", "written"}
    assert seen[True] | seen[False] == {"nothing committed", "committed, not recorded", "written"}


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
