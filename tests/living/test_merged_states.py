"""A revision is always a state its author made, also across a merge.

Two branches correct the same trial differently; git stops on the conflict, the lead resolves it
and commits the merge, `livemeta build` stops on the trial changed on both sides, and `livemeta
resolve -m` records the review. Every revision's evidence must then be the tree of the commit that
made it, following the tree of the revision before (no correction undone that nobody undid), and
the resolution's note must show in `log`, the revisions view and the report.
"""

from __future__ import annotations

import subprocess

import pytest
import yaml

from livemeta import api
from livemeta.living.history import HistoryError
from ..conftest import copy_project
from ..mdtext import plain

from .test_history import git
from .test_team import ALICE, BOB, _make_origin, clone, edit

RESOLUTION = "11.5 months checked against the full text (Table 2); Bob's note kept"
TRIAL = "synthetic-00001"


def tree_rows(root, sha: str) -> set[tuple]:
    """The (trial, outcome, experimental median, note) of every study file in commit ``sha``."""
    names = git(root, "ls-tree", "--name-only", sha, "studies/").splitlines()
    rows = set()
    for name in names:
        if not name.endswith(".yaml"):
            continue
        d = yaml.safe_load(git(root, "show", f"{sha}:{name}"))
        for o in d["outcomes"]:
            rows.add((d["trial"]["id"], o["id"], o.get("experimental_median"), o.get("note")))
    return rows


def db_rows(proj, revision: int) -> set[tuple]:
    return set(api.query(proj.database, "select trial_id, outcome_id, experimental_median, note from outcomes",
                         as_of=revision).rows)


def _make_resolved(folder):
    """Alice (on main) corrects SYNTHETIC-00001's median 11.0 -> 11.5 (revision 3); Bob, on a branch
    left before it, corrects it to 11.2 and adds a note. The merge conflicts; Alice keeps 11.5 and
    Bob's note, commits the merge and records the resolution."""
    origin, tmp_path = folder.parent / "origin.git", folder.parent
    _make_origin(origin)
    alice, bob = clone(origin, folder), clone(origin, tmp_path / "bob")
    main = git(alice.root, "branch", "--show-current")
    api.build(bob)
    git(bob.root, "switch", "-q", "-c", "fix")
    path = bob.studies / f"{TRIAL}.yaml"
    edit(path, lambda d: d["outcomes"][0].update(experimental_median=11.2, note="Bob: median from the abstract"))
    api.ingest([path], message="SYNTHETIC-00001: median 11.2 (abstract)", project=bob, author=BOB, supersede=True)
    git(bob.root, "push", "-q", "origin", "fix")

    api.build(alice)
    path = alice.studies / f"{TRIAL}.yaml"
    edit(path, lambda d: d["outcomes"][0].update(experimental_median=11.5))
    api.ingest([path], message="SYNTHETIC-00001: median 11.5 (full text)", project=alice, author=ALICE, supersede=True)
    git(alice.root, "fetch", "-q")
    merged = subprocess.run(["git", "merge", "--no-ff", "origin/fix"], cwd=alice.root, capture_output=True, text=True)
    assert merged.returncode != 0 and "CONFLICT" in merged.stdout  # git stops on the conflict
    edit_resolution = yaml.safe_load(git(alice.root, "show", f"{main}:studies/{TRIAL}.yaml"))
    edit_resolution["outcomes"][0]["note"] = "Bob: median from the abstract"
    path.write_text(yaml.safe_dump(edit_resolution, sort_keys=False))
    git(alice.root, "add", str(path))
    git(alice.root, "commit", "-q", "--no-edit")
    with pytest.raises(HistoryError, match="changed on both branches"):
        api.build(alice)
    api.resolve([TRIAL], message=RESOLUTION, project=alice)


@pytest.fixture
def resolved(made_once, tmp_path, monkeypatch):
    """Alice's clone after the resolution (made once per session, copied for each test)."""
    return copy_project(made_once("resolved", _make_resolved), tmp_path / "alice", monkeypatch)


def test_every_revision_is_the_tree_of_the_commit_that_made_it(resolved):
    proj = resolved
    log = api.log(proj.database)
    assert [e.revision.revision_id for e in log] == [1, 2, 3, 4]
    for e in log[1:]:
        made = tree_rows(proj.root, e.commit)
        assert db_rows(proj, e.revision.revision_id) == made, e.revision.revision_id
        # and the revision before is the tree its author started from (its first parent)
        assert db_rows(proj, e.revision.revision_id - 1) == tree_rows(proj.root, e.commit + "^1"), e.revision.revision_id
    sql = f"select experimental_median from outcomes where trial_id = '{TRIAL}' and outcome_id = 'os'"
    medians = [api.query(proj.database, sql, as_of=r).rows for r in (2, 3, 4)]
    assert medians == [[(11.0,)], [(11.5,)], [(11.5,)]]


def test_diff_of_the_merge_undoes_no_correction(resolved):
    d = api.diff(resolved.database, 3, 4)
    changes = [(c.field, c.old, c.new) for t in d.trials for c in t.changes]
    assert changes == [("note", None, "Bob: median from the abstract")]
    for r in (2, 3, 4):  # no consecutive diff moves the median back
        step = api.diff(resolved.database, r - 1, r)
        assert not [c for t in step.trials for c in t.changes if c.field == "experimental_median" and c.new == 11.0]


def test_the_resolution_note_shows_in_log_the_revisions_view_and_the_report(resolved, tmp_path):
    proj = resolved
    entry = api.log(proj.database)[-1]
    assert entry.revision.note == f"{RESOLUTION}\nSYNTHETIC-00001: median 11.2 (abstract) (Bob Reviewer)"
    assert entry.revision.label == "evidence"
    note, kind = api.query(proj.database, "select note, kind from revisions where revision_id = 4").rows[0]
    assert note.startswith(RESOLUTION) and kind == "evidence"
    api.report(proj.database, tmp_path / "report", project=proj)
    page = plain((tmp_path / "report" / "report.md").read_text())
    assert f"Revision note: {RESOLUTION}" in page
    assert "revision 4 — evidence — " in page and RESOLUTION in page[page.index("## What's new"):]
