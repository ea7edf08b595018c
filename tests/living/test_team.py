"""A review team through git: clones, branches, merges, conflicts, and two writers at once.

Real repositories in temporary folders: a bare `origin`, a clone per person.
"""

from __future__ import annotations

import shutil

import subprocess
import sys

import pytest
import yaml

from livemeta import api
from livemeta.living.history import HistoryError
from livemeta.project import load_project, new_project

from .test_history import git, tables, write_study

ALICE = "Alice Extractor <alice@example.org>"
BOB = "Bob Reviewer <bob@example.org>"


def _make_origin(bare):
    proj, _ = new_project(bare.parent / "seed", name="Team review")
    api.ingest([write_study(proj, 1), write_study(proj, 2)], message="add two trials", project=proj)
    git(bare.parent, "clone", "-q", "--bare", str(proj.root), str(bare))


@pytest.fixture
def origin(made_once, tmp_path):
    """A shared repository holding a project with two trials (revisions 1 and 2): made once per
    session, each test pushing to a copy of its own."""
    bare = tmp_path / "origin.git"
    shutil.copytree(made_once("team-origin", _make_origin), bare, symlinks=True)
    return bare


def clone(origin, where):
    git(where.parent, "clone", "-q", str(origin), str(where))
    return load_project(where)


def edit(path, change):
    d = yaml.safe_load(path.read_text())
    change(d)
    path.write_text(yaml.safe_dump(d, sort_keys=False))


def query(proj, sql, as_of=None):
    return api.query(proj.database, sql, as_of=as_of).rows


def test_two_branches_merge_into_one_linear_history(origin, tmp_path):
    alice, bob = clone(origin, tmp_path / "alice"), clone(origin, tmp_path / "bob")
    main = git(alice.root, "branch", "--show-current")
    for p in (alice, bob):
        assert api.build(p).revision == 2
    # Alice adds a trial on her branch; Bob corrects another trial on his
    git(alice.root, "switch", "-q", "-c", "add-trial")
    api.ingest([write_study(alice, 3)], message="add SYNTHETIC-00003", project=alice, author=ALICE)
    git(alice.root, "push", "-q", "origin", "add-trial")
    git(bob.root, "switch", "-q", "-c", "correct")
    path = bob.studies / "synthetic-00002.yaml"
    edit(path, lambda d: d["outcomes"][0].update(note="checked against the full text"))
    api.ingest([path], message="correct SYNTHETIC-00002", project=bob, author=BOB, supersede=True)
    git(bob.root, "push", "-q", "origin", "correct")
    alice_before = {rev: query(alice, "select trial_id, outcome_id, estimate, note from outcomes order by all", rev)
                    for rev in (1, 2, 3)}
    bob_rev3 = query(bob, "select trial_id, outcome_id, estimate, note from outcomes order by all", 3)

    # the lead merges both branches into main
    git(alice.root, "switch", "-q", main)
    git(alice.root, "fetch", "-q")
    git(alice.root, "merge", "-q", "--no-ff", "-m", "Merge add-trial", "origin/add-trial")
    git(alice.root, "merge", "-q", "--no-ff", "-m", "Merge correct", "origin/correct")
    git(alice.root, "push", "-q", "origin", main)
    report = api.build(alice)
    assert report.revision == 4
    log = api.log(alice.database)
    # Alice's branch left from main as it still was: her commit is replayed as she made it (revision
    # 3). Bob's left before it: his branch comes as one revision, the merge (the tree the lead
    # committed), with his note and name; his own tree, without Alice's trial, is no revision
    assert [e.revision.note for e in log] == [
        "Start the livemeta project: Team review", "add two trials", "add SYNTHETIC-00003",
        "correct SYNTHETIC-00002 (Bob Reviewer)"]
    assert [e.revision.author for e in log][2:] == ["Alice Extractor", "Test Author"]
    assert [e.revision.message for e in log][3] == "Merge correct"
    for rev in (1, 2, 3):  # every earlier revision answers as it did before the merge
        assert query(alice, "select trial_id, outcome_id, estimate, note from outcomes order by all", rev) == alice_before[rev]
    now = query(alice, "select trial_id, outcome_id, estimate, note from outcomes order by all")
    assert {t for t, *_ in now} == {"synthetic-00001", "synthetic-00002", "synthetic-00003"}
    assert ("checked against the full text" in {n for *_, n in now})

    # Bob pulls main: his revision 3 is now part of revision 4, his database is rebuilt, equal to the lead's
    git(bob.root, "switch", "-q", main)
    git(bob.root, "pull", "-q", "--ff-only", "origin", main)
    report = api.build(bob)
    assert report.mode == "rebuilt" and report.renumbered == [] and report.dropped == []
    assert [(old, new) for old, new, *_ in report.folded] == [(3, 4)]
    assert query(bob, "select trial_id, outcome_id, estimate, note from outcomes order by all", 4)[:0] == []
    assert tables(bob.database) == tables(alice.database)
    assert set(bob_rev3) <= set(query(bob, "select trial_id, outcome_id, estimate, note from outcomes order by all", 4))
    assert api.verify(bob).ok


def test_the_same_trial_changed_on_both_branches_is_a_conflict_naming_it(origin, tmp_path):
    alice, bob = clone(origin, tmp_path / "alice"), clone(origin, tmp_path / "bob")
    main = git(alice.root, "branch", "--show-current")
    for p, who, branch, change in (
        (alice, ALICE, "a", lambda d: d["trial"].update(note="Alice: phase checked")),
        (bob, BOB, "b", lambda d: d["adverse_events"][-1].update(note="Bob: counts checked")),
    ):
        api.build(p)
        git(p.root, "switch", "-q", "-c", branch)
        path = p.studies / "synthetic-00001.yaml"
        edit(path, change)
        api.ingest([path], message=f"{branch}: correct SYNTHETIC-00001", project=p, author=who, supersede=True)
        git(p.root, "push", "-q", "origin", branch)
    git(alice.root, "switch", "-q", main)
    git(alice.root, "fetch", "-q")
    git(alice.root, "merge", "-q", "--no-ff", "-m", "Merge a", "origin/a")
    git(alice.root, "merge", "-q", "--no-ff", "-m", "Merge b", "origin/b")  # git merges the two edits silently
    merged = yaml.safe_load((alice.studies / "synthetic-00001.yaml").read_text())
    assert merged["trial"]["note"] == "Alice: phase checked" and merged["adverse_events"][-1]["note"] == "Bob: counts checked"
    before = alice.database.read_bytes()
    with pytest.raises(HistoryError) as info:
        api.build(alice)
    text = info.value.message
    assert "trial 'synthetic-00001' (studies/synthetic-00001.yaml) was changed on both branches" in text
    assert "Alice Extractor: a: correct SYNTHETIC-00001" in text and "Bob Reviewer: b: correct SYNTHETIC-00001" in text
    assert "livemeta resolve synthetic-00001" in info.value.hint
    assert alice.database.read_bytes() == before  # nothing written
    out = subprocess.run([sys.executable, "-m", "livemeta", "build"], cwd=alice.root, capture_output=True, text=True)
    assert out.returncode == 2 and "merge conflict in the evidence" in out.stderr and "Traceback" not in out.stderr

    report = api.resolve(["synthetic-00001"], message="Both corrections are right", project=alice)
    # 3 Alice's correction (her branch left from main as it was), 4 the merged file (at the merge
    # commit), with the resolution's note and Bob's
    assert report.revision == 4
    assert api.log(alice.database)[-1].revision.note == (
        "Both corrections are right\nb: correct SYNTHETIC-00001 (Bob Reviewer)")
    notes = query(alice, "select t.note, a.note from trials t join adverse_events a using (trial_id) "
                         "where trial_id = 'synthetic-00001' and a.note is not null")
    assert notes == [("Alice: phase checked", "Bob: counts checked")]
    assert "Livemeta-Resolves: synthetic-00001" in git(alice.root, "log", "-1", "--format=%B")


def test_two_ingests_at_once_each_pool_their_own_revision(origin, tmp_path):
    """Two real processes ingest different trials at the same time: one waits for the other, and
    each revision's estimates are pooled from that revision's rows and stored under it."""
    proj = clone(origin, tmp_path / "work")
    api.build(proj)
    files = [write_study(proj, 11), write_study(proj, 12)]
    procs = [
        subprocess.Popen([sys.executable, "-m", "livemeta", "ingest", f, "-m", f"add {i}", "--wait", "120"],
                         cwd=proj.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i, f in enumerate(files)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    k = query(proj, "select revision_id, k from history.pooled_estimates where analysis_id = 'os' "
                    "and stratum = 'overall' order by revision_id")
    assert k == [(1, 0), (2, 2), (3, 3), (4, 4)]
    assert len(git(proj.root, "log", "--format=%H").splitlines()) == 4
    assert api.verify(proj).ok


def test_resolve_during_an_unfinished_git_merge_says_to_finish_it_in_git(origin, tmp_path):
    """Both branches change the same line: git stops with the study file unmerged (UU). `livemeta
    resolve` says that git's merge must be finished first, and how (issue 21), instead of "no
    unresolved merge conflict"; once the merge is committed, build names the conflict and resolve
    records the review."""
    from livemeta.errors import LivemetaError

    alice, bob = clone(origin, tmp_path / "alice"), clone(origin, tmp_path / "bob")
    main = git(alice.root, "branch", "--show-current")
    for p, who, branch, note in ((alice, ALICE, "a", "Alice: 0.74"), (bob, BOB, "b", "Bob: 0.75")):
        api.build(p)
        git(p.root, "switch", "-q", "-c", branch)
        path = p.studies / "synthetic-00001.yaml"
        edit(path, lambda d, note=note: d["trial"].update(note=note))
        api.ingest([path], message=f"{branch}: note", project=p, author=who, supersede=True)
        git(p.root, "push", "-q", "origin", branch)
    git(alice.root, "switch", "-q", main)
    git(alice.root, "fetch", "-q")
    git(alice.root, "merge", "-q", "--no-ff", "-m", "Merge a", "origin/a")
    done = subprocess.run(["git", "merge", "-q", "--no-ff", "-m", "Merge b", "origin/b"], cwd=alice.root,
                          capture_output=True, text=True)
    assert done.returncode != 0  # a real conflict
    status = git(alice.root, "status", "--porcelain")
    assert "UU studies/synthetic-00001.yaml" in status
    head = git(alice.root, "rev-parse", "HEAD")
    with pytest.raises(LivemetaError) as info:
        api.resolve(["synthetic-00001"], message="checked", project=alice)
    text = str(info.value)
    assert "git has not finished merging studies/synthetic-00001.yaml (UU)" in text
    assert "no unresolved merge conflict" not in text
    assert "`git add studies/synthetic-00001.yaml` and `git commit`" in info.value.hint
    assert "livemeta resolve synthetic-00001" in info.value.hint
    assert git(alice.root, "rev-parse", "HEAD") == head  # nothing committed
    out = subprocess.run([sys.executable, "-m", "livemeta", "resolve", "synthetic-00001", "-m", "x"], cwd=alice.root,
                         capture_output=True, text=True)
    assert out.returncode == 1 and "git has not finished merging" in out.stderr and "Traceback" not in out.stderr

    # finish git's merge as the hint says; then livemeta's review of the merged trial
    path = alice.studies / "synthetic-00001.yaml"
    text = path.read_text()
    ours = text.split("<<<<<<< HEAD\n", 1)[1].split("=======\n", 1)[0]
    start, end = text.index("<<<<<<< HEAD\n"), text.index(">>>>>>> origin/b\n") + len(">>>>>>> origin/b\n")
    path.write_text(text[:start] + ours + text[end:])
    git(alice.root, "add", "studies/synthetic-00001.yaml")
    git(alice.root, "commit", "-q", "--no-edit")
    with pytest.raises(HistoryError, match="changed on both branches"):
        api.build(alice)
    # revisions: 1-2 the origin's, 3 the merge of a, 4 the merge of b that this review records (a merge is one revision)
    assert api.resolve(["synthetic-00001"], message="Alice's value checked", project=alice).revision == 4
    shown = subprocess.run([sys.executable, "-m", "livemeta", "log"], cwd=alice.root, capture_output=True, text=True)
    assert "Alice's value checked" in shown.stdout, shown.stdout
