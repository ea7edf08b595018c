"""An ingest is never lost: not to a git operation under way, not to a rewritten history.

`livemeta ingest` refuses, with one line, a non-zero exit and nothing written (no commit, no
database change), while a merge, rebase, cherry-pick or revert waits for the user, and on a
detached HEAD. `livemeta build` after a rebase, a reset or a switch of branch names the revisions
that leave the history, keeps the old database and says how to get them back.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys

import duckdb
import pytest
import yaml

from livemeta import api

from ..conftest import copy_project
from .test_history import git, write_study

TRIAL = "synthetic-00001"


def run(cwd, *args) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)


def set_median(proj, value: float) -> None:
    path = proj.studies / f"{TRIAL}.yaml"
    d = yaml.safe_load(path.read_text())
    d["outcomes"][0]["experimental_median"] = value
    path.write_text(yaml.safe_dump(d, sort_keys=False))


def commit_median(proj, value: float, message: str) -> str:
    set_median(proj, value)
    git(proj.root, "commit", "-q", "-am", message)
    return git(proj.root, "rev-parse", "HEAD")


@pytest.fixture
def base(made_once, tmp_path, monkeypatch):
    """Two trials (revision 2); a branch `side` corrects SYNTHETIC-00001's median to 11.2, main to
    11.5 (revision 3), both on the same line; the database follows main (made once per session,
    copied for each test)."""
    proj = copy_project(made_once("rewritten-base", _make_base), tmp_path / "review", monkeypatch)
    return proj, git(proj.root, "branch", "--show-current")


def _make_base(folder):
    from livemeta.project import new_project

    proj, _ = new_project(folder, name="Test review")
    api.ingest([write_study(proj, 1), write_study(proj, 2)], message="add two trials", project=proj)
    main = git(proj.root, "branch", "--show-current")
    git(proj.root, "switch", "-q", "-c", "side")
    commit_median(proj, 11.2, "median 11.2 (abstract)")
    git(proj.root, "switch", "-q", main)
    commit_median(proj, 11.5, "median 11.5 (full text)")
    api.build(proj)


def _stop_in(proj, main: str, operation: str) -> str:
    """Leave git stopped in ``operation`` on a conflict in SYNTHETIC-00001's study file."""
    if operation == "rebase":
        git(proj.root, "switch", "-q", "side")
        out = run(proj.root, "rebase", main)
    elif operation == "merge":
        out = run(proj.root, "merge", "side")
    elif operation == "cherry-pick":
        out = run(proj.root, "cherry-pick", "side")
    else:  # revert the 11.5 correction after a later one changed the same line
        commit_median(proj, 11.7, "median 11.7 (erratum)")
        api.build(proj)
        out = run(proj.root, "revert", "--no-edit", "HEAD~1")
    assert out.returncode != 0 and "CONFLICT" in out.stdout + out.stderr, out
    return operation


def _fingerprint(proj) -> tuple:
    head = run(proj.root, "rev-parse", "HEAD").stdout.strip()
    commits = run(proj.root, "rev-list", "--all", "--count").stdout.strip()
    db = hashlib.sha256(proj.database.read_bytes()).hexdigest() if proj.database.exists() else None
    return head, commits, db


@pytest.mark.parametrize("operation", ["rebase", "merge", "cherry-pick", "revert"])
def test_ingest_is_refused_while_git_waits_for_the_user(base, operation):
    proj, main = base
    _stop_in(proj, main, operation)
    new = write_study(proj, 3)
    before = _fingerprint(proj)
    out = subprocess.run([sys.executable, "-m", "livemeta", "ingest", new, "-m", "add a trial"], cwd=proj.root,
                         capture_output=True, text=True)
    assert out.returncode != 0
    first = out.stderr.strip().splitlines()[0]
    what = {"rebase": "a rebase", "merge": "a merge", "cherry-pick": "a cherry-pick", "revert": "a revert"}[operation]
    assert first == f"error: ingest refused: {what} is in progress in {proj.root}; nothing was committed or written"
    assert "Traceback" not in out.stderr and out.stdout == ""
    assert _fingerprint(proj) == before  # no commit, the database as it was


def test_ingest_is_refused_on_a_detached_head_and_build_names_what_a_switch_drops(base):
    proj, main = base
    git(proj.root, "switch", "-q", "--detach", "HEAD")
    before = _fingerprint(proj)
    out = subprocess.run([sys.executable, "-m", "livemeta", "ingest", write_study(proj, 3), "-m", "add a trial"],
                         cwd=proj.root, capture_output=True, text=True)
    assert out.returncode != 0 and "ingest refused: HEAD is detached" in out.stderr.splitlines()[0]
    assert "git switch" in out.stderr and _fingerprint(proj) == before


def test_a_rebase_aborted_loses_nothing(base):
    """The issue's sequence: an ingest during a stopped rebase would commit onto the rebase, which
    `git rebase --abort` then discards. It is refused; after the abort the history is as it was."""
    proj, main = base
    _stop_in(proj, main, "rebase")
    new = write_study(proj, 3)
    with pytest.raises(Exception, match="a rebase is in progress"):
        api.ingest([new], message="add a trial", project=proj)
    git(proj.root, "rebase", "--abort")
    git(proj.root, "switch", "-q", main)
    report = api.build(proj)
    assert (report.mode, report.revision, report.dropped) == ("up to date", 3, [])
    assert api.ingest([new], message="add a trial", project=proj).revision == 4


def test_build_names_the_revisions_a_reset_drops_keeps_the_database_and_says_how_to_get_them_back(base):
    proj, main = base
    api.ingest([write_study(proj, 3)], message="add SYNTHETIC-00003", project=proj)  # revision 4
    lost_commit = git(proj.root, "rev-parse", "HEAD")
    git(proj.root, "reset", "-q", "--hard", "HEAD~2")  # drops revisions 3 and 4
    out = subprocess.run([sys.executable, "-m", "livemeta", "build"], cwd=proj.root, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    warnings = [line for line in out.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings[0].startswith("warning: revision 3 (commit ") and "'median 11.5 (full text)'" in warnings[0]
    assert warnings[1].startswith("warning: revision 4 (commit ") and "'add SYNTHETIC-00003'" in warnings[1]
    assert "is no longer in the history of HEAD" in warnings[0]
    kept = next(proj.root.glob("livemeta.duckdb.*.bak"))
    assert f"warning: the database as it was is kept as {kept}" in out.stderr
    with duckdb.connect(str(kept), read_only=True) as con:
        assert con.execute("select max(revision_id) from history.revisions").fetchone() == (4,)
    assert "revision 2" in out.stdout and api.revisions(proj.database)[-1].revision_id == 2
    # the way back it names: the commit git's reflog keeps
    assert f"`git branch recovered {lost_commit[:9]}`" in out.stderr
    git(proj.root, "branch", "recovered", lost_commit[:9])
    git(proj.root, "switch", "-q", "recovered")
    report = api.build(proj)
    assert report.revision == 4 and report.dropped == []
    assert [r.note for r in api.revisions(proj.database)][2:] == ["median 11.5 (full text)", "add SYNTHETIC-00003"]


def test_a_rebased_branch_names_its_old_revisions(base):
    """A rebase replaces the branch's commits: the revisions of the old commits are named, the
    rebased ones replayed (the same notes, new commits)."""
    proj, main = base
    git(proj.root, "switch", "-q", "side")
    api.build(proj)  # the database follows `side`: revision 3 is its 11.2 correction
    old = git(proj.root, "rev-parse", "HEAD")
    out = run(proj.root, "rebase", "-X", "theirs", main)
    assert out.returncode == 0, out
    report = api.build(proj)
    assert [(rid, sha, note) for rid, sha, note in report.dropped] == [(3, old, "median 11.2 (abstract)")]
    assert "git's reflog" in report.recover and old[:9] in report.recover
    assert [r.note for r in api.revisions(proj.database)][1:] == [
        "add two trials", "median 11.5 (full text)", "median 11.2 (abstract)"]
