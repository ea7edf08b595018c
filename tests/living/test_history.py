"""The history lives in git: real repositories in temporary folders, as a review team uses them.

Rebuilds bit for bit in other clones, refusals that keep history, rejected revisions, a shallow
clone, a folder without git, uncommitted files, versions, deletions and analyses changes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import duckdb
import pytest
import yaml
from click.testing import CliRunner

from livemeta import api
from livemeta.cli import main
from livemeta.errors import LivemetaError
from livemeta.ingest.synthetic import study
from livemeta.living.history import HistoryError, HistoryWouldBeLost
from livemeta.project import load_project
from tests.conftest import copy_project

#: every history table but the migrations' bookkeeping, with the columns that record when and by
#: which livemeta a row was computed left out
COMPARED = {
    "revisions": "EXCLUDE (livemeta_version)",
    "pooled_estimates": "EXCLUDE (computed_at, livemeta_version)",
}


def git(cwd, *args) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def write_study(proj, i: int, **trial) -> str:
    d = study(i)
    d["trial"].update(trial)
    path = proj.studies / f"{d['trial']['id']}.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    return str(path)


def tables(db) -> dict[str, list[tuple]]:
    """Every history table's rows, sorted (what a bit-for-bit rebuild must reproduce)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'history' order by 1").fetchall()]
        out = {}
        for t in names:
            if t == "schema_migrations":
                continue
            rows = con.execute(f"select * {COMPARED.get(t, '')} from history.{t}").fetchall()
            out[t] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


def _make_history(folder):
    from livemeta.project import new_project

    project, _ = new_project(folder, name="Test review")
    a, b = write_study(project, 1), write_study(project, 2)
    api.ingest([a, b], message="add two trials", project=project)
    d = yaml.safe_load(open(a))
    d["outcomes"][0]["note"] = "corrected after reading the full text"
    d["outcomes"][0]["verified"] = not d["outcomes"][0]["verified"]
    open(a, "w").write(yaml.safe_dump(d, sort_keys=False))
    api.ingest([a], message="correct SYNTHETIC-00001", project=project, supersede=True)
    api.version_add("review-1", description="the first published version", project=project)
    api.ingest([write_study(project, 3)], message="add a third trial", project=project)


@pytest.fixture
def history_project(made_once, tmp_path, monkeypatch):
    """A project with four revisions: the start, two trials, a correction of one, a version (made
    once per session, copied for each test)."""
    return copy_project(made_once("history", _make_history), tmp_path / "review", monkeypatch)


def test_a_clone_rebuilds_the_history_bit_for_bit(history_project, tmp_path):
    proj = history_project
    original = tables(proj.database)
    assert [r[0] for r in sorted(original["revisions"])] == [1, 2, 3, 4]
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(proj.root), str(clone))
    report = api.build(clone)
    assert (report.mode, report.revision) == ("created", 4)
    rebuilt = tables(load_project(clone).database)
    assert rebuilt == original  # ids, messages, authors, times, rows, versions, estimates: float for float
    runner = CliRunner()
    for args in (["log"], ["diff"], ["diff", "review-1"], ["pool", "--as-of", "2"], ["query", "select * from outcomes", "--as-of", "2"]):
        a = runner.invoke(main, [*args, "--db", str(proj.database)])
        b = runner.invoke(main, [*args, "--db", str(load_project(clone).database)])
        assert a.exit_code == b.exit_code == 0, (args, a.output, b.output)
        assert a.stdout == b.stdout, args
    out = runner.invoke(main, ["verify", "--project", str(clone)])
    assert out.exit_code == 0 and "identical to a fresh replay" in out.output


def test_log_shows_commits_versions_and_authors(history_project):
    entries = api.log(history_project.database)
    assert [e.revision.note for e in entries] == [
        "Start the livemeta project: Test review", "add two trials", "correct SYNTHETIC-00001", "add a third trial"]
    assert [e.revision.label for e in entries] == ["start", "evidence", "evidence", "evidence"]
    assert [e.versions for e in entries] == [[], [], ["review-1"], []]
    assert entries[2].version_notes == ["review-1: the first published version"]
    heads = git(history_project.root, "log", "--format=%H", "--", "studies").splitlines()
    assert [e.commit for e in entries] == heads[::-1]
    assert {e.revision.author for e in entries} == {"Test Author"}
    assert api.versions(history_project.database)[0][:2] == ("review-1", 3)


def test_verify_reports_each_difference(history_project):
    db = history_project.database
    with duckdb.connect(str(db)) as con:
        con.execute("update history.pooled_estimates set estimate = estimate + 1e-12 "
                    "where analysis_id = 'os' and revision_id = 2 and stratum = 'overall'")
        con.execute("update history.revisions set message = 'edited' where revision_id = 2")
    out = CliRunner().invoke(main, ["verify"])
    assert out.exit_code == 1
    assert "revisions revision_id=2: message: database 'edited', repository 'add two trials'" in out.output
    line = next(x for x in out.output.splitlines() if "pooled_estimates analysis_id='os', revision_id=2" in x)
    assert "estimate: database" in line and "repository" in line


def test_build_never_discards_history_it_cannot_reproduce(history_project):
    """A revision written outside git (by an older livemeta, or straight into the file) is kept:
    build refuses, naming it; --backup keeps the file and rebuilds."""
    from livemeta.ingest import ingest_files

    db = history_project.database
    extra = history_project.root / "elsewhere.yaml"
    extra.write_text(yaml.safe_dump(study(9), sort_keys=False))
    ingest_files(db, [extra], message="written straight into the database", author="someone")
    before = db.read_bytes()
    with pytest.raises(HistoryWouldBeLost) as info:
        api.build(history_project)
    assert "revision 5 (" in info.value.message and "written straight into the database" in info.value.message
    assert db.read_bytes() == before
    out = CliRunner().invoke(main, ["build"])
    assert out.exit_code == 2 and "--backup" in out.output and "Traceback" not in out.output
    out = CliRunner().invoke(main, ["build", "--backup"])
    assert out.exit_code == 0, out.output
    kept = next(history_project.database.parent.glob("livemeta.duckdb.*.bak"))
    assert f"the old database was kept as {kept}" in out.output
    assert duckdb.connect(str(kept), read_only=True).execute("select max(revision_id) from history.revisions").fetchone() == (5,)
    assert api.revisions(db)[-1].message == "add a third trial"


def test_a_commit_that_no_longer_exists_is_history_that_would_be_lost(history_project):
    proj = history_project
    git(proj.root, "reset", "-q", "--hard", "HEAD~1")  # drop "add a third trial"
    git(proj.root, "reflog", "expire", "--expire=now", "--all")
    git(proj.root, "gc", "-q", "--prune=now")
    with pytest.raises(HistoryWouldBeLost, match="revision 4 comes from commit .* which this repository does not have"):
        api.build(proj)


def test_a_database_on_another_branch_is_rebuilt_since_the_repository_has_its_commits(history_project):
    """A switch to a branch without the last revision rebuilds the database, naming the revision
    that leaves it, keeping the old file and saying where the revision is (its branch)."""
    proj = history_project
    main_branch = git(proj.root, "branch", "--show-current")
    git(proj.root, "switch", "-q", "-c", "side", "HEAD~1")
    report = api.build(proj)
    assert (report.mode, report.revision) == ("rebuilt", 3)
    assert [(rid, note) for rid, _, note in report.dropped] == [(4, "add a third trial")]
    assert report.backup is not None and report.backup.exists()
    assert f"`git switch {main_branch} && livemeta build`" in report.recover
    git(proj.root, "switch", "-q", main_branch)
    report = api.build(proj)
    assert report.revision == 4 and report.dropped == []


def test_a_replayed_commit_that_fails_todays_validation_is_kept_as_rejected(project):
    """A commit made with plain git (or valid under older rules) that today's validation refuses:
    build reports the revision and why, keeps its number, applies nothing of it; a later commit that
    fixes the file brings it in."""
    good = write_study(project, 1)
    bad = write_study(project, 2)
    d = yaml.safe_load(open(bad))
    right = d["outcomes"][0]["ci_high"]
    d["outcomes"][0]["ci_high"] = 0.5  # below the estimate
    open(bad, "w").write(yaml.safe_dump(d, sort_keys=False))
    git(project.root, "add", "studies")
    git(project.root, "commit", "-q", "-m", "two trials, committed without livemeta")
    out = CliRunner().invoke(main, ["build"])
    assert out.exit_code == 0, out.output
    assert "warning: revision 2 " in out.output and "REJECTED under today's validation" in out.output
    assert "synthetic-00002.yaml: outcomes[0]" in out.output
    assert [t for (t,) in api.query(project.database, "select trial_id from trials").rows] == []  # all or nothing
    log = CliRunner().invoke(main, ["log"])
    assert "REJECTED when replayed" in log.output and "synthetic-00002.yaml: outcomes[0]" in log.output
    d["outcomes"][0]["ci_high"] = right
    open(bad, "w").write(yaml.safe_dump(d, sort_keys=False))
    git(project.root, "commit", "-q", "-am", "fix synthetic-00002")
    report = api.build(project)
    assert [(a.revision, a.status) for a in report.applied] == [(3, "applied")]
    assert sorted(report.applied[0].actions) == ["synthetic-00002"]  # the good file stays out until changed
    assert good.endswith("synthetic-00001.yaml")


def test_a_shallow_clone_is_refused_with_the_fix(history_project, tmp_path):
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{history_project.root}", str(shallow))
    with pytest.raises(HistoryError, match="shallow") as info:
        api.build(shallow)
    assert "git fetch --unshallow" in info.value.hint
    git(shallow, "fetch", "-q", "--unshallow")
    assert api.build(shallow).revision == 4


def test_a_folder_without_git_is_refused_with_the_fix(tmp_path, monkeypatch):
    shutil.copytree(load_project_template(tmp_path), tmp_path / "plain")
    monkeypatch.chdir(tmp_path / "plain")
    out = CliRunner().invoke(main, ["build"])
    assert out.exit_code == 2 and "is not in a git repository" in out.output and "git init" in out.output


def load_project_template(tmp_path):
    from livemeta.project import new_project

    proj, _ = new_project(tmp_path / "made", name="x", commit=False)
    shutil.rmtree(proj.root / ".git", ignore_errors=True)
    return proj.root


def test_a_project_file_not_committed_is_refused(tmp_path, monkeypatch):
    from livemeta.project import new_project

    proj, sha = new_project(tmp_path / "p", name="x", commit=False)
    assert sha is None
    monkeypatch.chdir(proj.root)
    with pytest.raises(HistoryError, match="no commits yet"):
        api.build(proj)
    (proj.root / "other.txt").write_text("x")
    git(proj.root, "add", "other.txt")
    git(proj.root, "commit", "-q", "-m", "something else")
    with pytest.raises(HistoryError, match="livemeta.yaml is not committed") as info:
        api.build(proj)
    assert "git add livemeta.yaml" in info.value.hint


def test_uncommitted_study_files_are_listed_and_kept_out(history_project):
    write_study(history_project, 7)
    out = CliRunner().invoke(main, ["build"])
    assert out.exit_code == 0
    assert "not in the history, because not committed: studies/synthetic-00007.yaml (untracked)" in out.output
    assert ("synthetic-00007",) not in api.query(history_project.database, "select trial_id from trials").rows
    out = CliRunner().invoke(main, ["pool", "os"])
    assert "note: not in the history (uncommitted): studies/synthetic-00007.yaml (untracked)" in out.output


def test_a_deleted_study_file_removes_its_trial(history_project):
    proj = history_project
    git(proj.root, "rm", "-q", "studies/synthetic-00002.yaml")
    git(proj.root, "commit", "-q", "-m", "withdraw SYNTHETIC-00002 (duplicate publication)")
    report = api.build(proj)
    assert report.applied[-1].actions == {"synthetic-00002": "removed"}
    now = {t for (t,) in api.query(proj.database, "select trial_id from trials").rows}
    then = {t for (t,) in api.query(proj.database, "select trial_id from trials", as_of=4).rows}
    assert then - now == {"synthetic-00002"}
    d = api.diff(proj.database)
    assert [(t.trial_id, t.kind) for t in d.trials] == [("synthetic-00002", "removed")]


def test_a_change_of_the_analyses_file_is_a_revision(history_project):
    proj = history_project
    text = proj.analyses.read_text().replace("  method: FE\n", "  method: REML\n", 1)
    proj.analyses.write_text(text)
    git(proj.root, "commit", "-q", "-am", "pool with REML")
    report = api.build(proj)
    assert [(a.revision, a.status, a.kinds) for a in report.applied] == [(5, "applied", ["analyses"])]
    d = api.diff(proj.database)
    os_change = next(a for a in d.analyses if a.analysis == "os")
    assert d.trials == [] and os_change.old["estimate"] != os_change.new["estimate"]
    # the analysis changed, the evidence did not: no flag says the evidence moved it
    assert (os_change.change, os_change.flags) == ("changed: method", [])
    assert [(r.revision, r.kind, r.note) for r in d.revisions] == [(5, "analyses only", "pool with REML")]
    assert api.pool(proj.database, ["os"]).results[0].spec.method == "REML"
    assert api.pool(proj.database, ["os"], as_of=4).results[0].spec.method == "FE"  # the analyses of then


def test_comment_only_changes_make_no_revision(history_project):
    proj = history_project
    path = proj.studies / "synthetic-00003.yaml"
    path.write_text("# a comment\n" + path.read_text())
    git(proj.root, "commit", "-q", "-am", "comment")
    report = api.build(proj)
    assert [(a.makes_revision, a.status) for a in report.applied] == [(False, "unchanged")]
    assert report.revision == 4
    assert api.verify(proj).ok


def test_ingest_refuses_files_outside_the_studies_folder_and_unchanged_files(history_project, tmp_path):
    outside = tmp_path / "x.yaml"
    outside.write_text(yaml.safe_dump(study(8)))
    with pytest.raises(LivemetaError, match="not in the project's studies folder"):
        api.ingest([outside], message="x", project=history_project)
    with pytest.raises(LivemetaError, match="no change: the file's content equals"):
        api.ingest([history_project.studies / "synthetic-00003.yaml"], message="x", project=history_project, supersede=True)


def test_one_trial_is_held_by_one_file(history_project):
    proj = history_project
    copy = proj.studies / "second-copy.yaml"
    copy.write_text((proj.studies / "synthetic-00003.yaml").read_text().replace("HR 0.", "HR  0."))
    with pytest.raises(LivemetaError, match="trial 'synthetic-00003' is held by studies/synthetic-00003.yaml"):
        api.ingest([copy], message="x", project=proj, supersede=True)


def test_ingest_catches_up_with_commits_made_elsewhere(history_project):
    proj = history_project
    write_study(proj, 5)
    git(proj.root, "add", "studies")
    git(proj.root, "commit", "-q", "-m", "a teammate's trial, pulled")
    result = api.ingest([write_study(proj, 6)], message="mine", project=proj)
    assert [a.revision for a in result.caught_up] == [5] and result.revision == 6


def test_version_add_names_the_current_revision(history_project):
    out = CliRunner().invoke(main, ["version", "add", "update-1", "-m", "first living update"])
    assert out.exit_code == 0, out.output
    assert "version update-1 names revision 4" in out.output
    out = CliRunner().invoke(main, ["version", "list"])
    assert "review-1" in out.output and "update-1" in out.output
    assert "name: update-1" in history_project.file.read_text()
    assert "# Named versions" in history_project.file.read_text()  # comments kept
    out = CliRunner().invoke(main, ["version", "add", "update-1", "-m", "again"])
    assert out.exit_code == 1 and "already named" in out.output
    out = CliRunner().invoke(main, ["pool", "os", "--as-of", "nope"])
    assert out.exit_code == 1 and "the versions are: review-1, update-1" in out.output


def test_a_moved_study_file_keeps_its_trial_and_a_later_deletion_removes_it(history_project):
    proj = history_project
    git(proj.root, "mv", "studies/synthetic-00003.yaml", "studies/moved.yaml")
    git(proj.root, "commit", "-q", "-m", "rename a study file")
    report = api.build(proj)
    assert [(a.revision, a.actions) for a in report.applied] == [(5, {"synthetic-00003": "superseded"})]
    assert api.query(proj.database, "select path from history.revision_files where revision_id = 5").rows == [
        ("studies/moved.yaml",)]
    git(proj.root, "rm", "-q", "studies/moved.yaml")
    git(proj.root, "commit", "-q", "-m", "withdraw it")
    assert api.build(proj).applied[-1].actions == {"synthetic-00003": "removed"}
    assert api.verify(proj).ok


def test_the_status_note_reads_the_history_only_when_head_moved(history_project, monkeypatch):
    """In step (HEAD is the last commit replayed) the note needs git's HEAD and status only; once HEAD
    moves, the history is read to say how far behind the database is."""
    import livemeta.living.history as history

    proj = history_project
    read = []
    real = history.read_history
    monkeypatch.setattr(history, "read_history", lambda p: read.append(p) or real(p))
    assert api.status_note(proj, proj.database) is None
    write_study(proj, 7)
    assert api.status_note(proj, proj.database) == (
        "not in the history (uncommitted): studies/synthetic-00007.yaml (untracked) — ingest them with `livemeta ingest`")
    assert read == []
    git(proj.root, "add", "studies/synthetic-00007.yaml")
    git(proj.root, "commit", "-q", "-m", "add SYNTHETIC-00007 without livemeta")
    assert api.status_note(proj, proj.database) == "the database is 1 commit behind the repository: run `livemeta build`"
    assert len(read) == 1


def test_commits_that_change_no_project_file_keep_the_status_note_from_reading_the_history(history_project,
                                                                                           monkeypatch):
    """A README or code commit after the last replayed one leaves the history as it was: in step,
    told without reading it. A study file committed later, here from a merged branch, is caught."""
    import livemeta.living.history as history

    proj = history_project
    read = []
    real = history.read_history
    monkeypatch.setattr(history, "read_history", lambda p: read.append(p) or real(p))
    (proj.root / "NOTES.md").write_text("screening notes\n")
    git(proj.root, "add", "NOTES.md")
    git(proj.root, "commit", "-q", "-m", "notes, not evidence")
    assert api.status_note(proj, proj.database) is None and read == []
    git(proj.root, "checkout", "-q", "-b", "side")
    write_study(proj, 8)
    git(proj.root, "add", "studies")
    git(proj.root, "commit", "-q", "-m", "a trial on a branch")
    git(proj.root, "checkout", "-q", "-")
    (proj.root / "NOTES.md").write_text("more notes\n")
    git(proj.root, "commit", "-q", "-am", "more notes")
    assert api.status_note(proj, proj.database) is None and read == []  # the branch is not merged
    git(proj.root, "merge", "-q", "--no-edit", "side")
    assert api.status_note(proj, proj.database) == "the database is 1 commit behind the repository: run `livemeta build`"
    assert len(read) == 1
    api.build(proj)
    git(proj.root, "commit", "-q", "--allow-empty", "-m", "an empty commit")
    assert api.status_note(proj, proj.database) is None  # in step (a merge since the last step: read again)


def test_log_and_its_conclusions_need_neither_pandas_nor_the_engine(history_project):
    """`livemeta log` reads the stored estimates (one query for all revisions, one for the analyses
    files in force): no pandas, numpy or scipy is imported, and what it prints is what it printed
    with them."""
    code = ("import sys\nfrom livemeta.cli import main\n"
            "try:\n    main(['log'], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
            "print('HEAVY', sorted(m for m in ('pandas', 'numpy', 'scipy') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=history_project.root)
    assert out.returncode == 0, out.stderr
    assert "HEAVY []" in out.stdout
    assert "conclusion changed: os: new estimate" in out.stdout
    assert "review-1" in out.stdout


def test_a_trials_rows_compare_equal_whatever_their_order_or_text_dtype():
    """The replay keeps an analysis's result when the changed trials' rows of its view are the rows
    it had: compared value by value (a text column read back as object is the same text), in any
    order; one changed number is a change."""
    import pandas as pd

    from livemeta.living.history import _same_in_order, _same_rows

    a = pd.DataFrame({"trial_id": ["t1", "t2"], "estimate": [0.8, float("nan")], "p_sided": pd.array(["one", None], dtype="str")})
    b = a.astype({"p_sided": object})
    assert _same_in_order(a, b) and _same_rows(a, b)
    assert not _same_in_order(a, b.iloc[::-1]) and _same_rows(a, b.iloc[::-1])
    c = b.copy()
    c.loc[0, "estimate"] = 0.81
    assert not _same_in_order(a, c) and not _same_rows(a, c)
    d = b.copy()
    d.loc[1, "p_sided"] = "two"
    assert not _same_rows(a, d)
