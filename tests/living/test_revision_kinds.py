"""Revisions say what kind of change they are, and their notes are the review's own words.

Real repositories in temporary folders. A developer's merge that changes the analyses file (the
bundled history's revision 3, "Merge issue-12: ...") is an *analyses only* revision: `log`, `diff`,
the revisions view and the report label it so, show no note taken from its developer text, and
print no conclusion change, crossed boundary or moved estimate, since no evidence changed.
"""

from __future__ import annotations

import yaml
from click.testing import CliRunner

from livemeta import api
from livemeta.cli import main
from livemeta.living.diff import AnalysisChange, RevisionDiff
from livemeta.reports.doc import Doc
from livemeta.reports.whatsnew import write_whats_new
from ..mdtext import plain

from .test_history import git, write_study

DEVELOPER_TEXT = "migration 0005 after 0004 (the reserved-number exception removed)"

NEW_ANALYSIS = """
  - id: os_dl
    title: OS, DerSimonian-Laird
    view: analysis_rct_os
    measure: HR
    method: DL
"""


def _developer_merge(proj) -> None:
    """Revision 2 adds three trials; a developer branch (left from there) adds an analysis, drops the
    method of PFS and changes code; main adds a fourth trial (revision 3); the merge brings the
    branch with a developer's message."""
    api.ingest([write_study(proj, i) for i in (1, 2, 3)], message="add three trials", project=proj)
    main_branch = git(proj.root, "branch", "--show-current")
    git(proj.root, "switch", "-q", "-c", "dev")
    text = proj.analyses.read_text()
    pfs = text.index("  - id: pfs\n")
    measure = text.index("    measure: HR\n", pfs) + len("    measure: HR\n")
    text = text[:measure] + "    method: DL\n" + text[measure:] + NEW_ANALYSIS
    proj.analyses.write_text(text)
    (proj.root / "tool.py").write_text("print('a developer tool')\n")
    git(proj.root, "add", "-A")
    git(proj.root, "commit", "-q", "-m", f"os_dl and PFS by DL: {DEVELOPER_TEXT}")
    git(proj.root, "switch", "-q", main_branch)
    api.ingest([write_study(proj, 4)], message="add a fourth trial", project=proj)
    git(proj.root, "merge", "-q", "--no-ff", "-m", f"Merge dev: {DEVELOPER_TEXT}", "dev")
    report = api.build(proj)
    assert [(a.revision, a.kinds, a.note) for a in report.applied] == [(4, ["analyses"], None)]


def test_an_analyses_only_merge_is_labelled_and_moves_nothing(project, tmp_path):
    proj = project
    _developer_merge(proj)
    entry = api.log(proj.database)[-1]
    assert (entry.revision.revision_id, entry.revision.label, entry.revision.note) == (4, "analyses only", None)
    assert entry.revision.changed_files == ("analyses.yaml",)
    assert entry.analyses == ["os_dl: added", "pfs: changed: method"]
    assert entry.changes == []  # no conclusion changed: the evidence did not

    out = CliRunner().invoke(main, ["log"])
    assert out.exit_code == 0, out.output
    rev4 = out.output[out.output.index("\n   4  "):]
    assert "analyses only" in rev4 and "(no note)" in rev4
    assert "analysis os_dl: added" in rev4 and "analysis pfs: changed: method" in rev4
    assert "conclusion changed" not in rev4
    assert "Merge dev" not in out.output and DEVELOPER_TEXT not in out.output

    assert api.query(proj.database, "select kind, note, changed_files from revisions where revision_id = 4").rows == [
        ("analyses only", None, ["analyses.yaml"])]

    d = api.diff(proj.database, 3, 4)
    assert d.trials == [] and d.evidence_unchanged
    assert {a.analysis: a.flags for a in d.analyses if a.flags} == {}
    assert {a.analysis: a.change for a in d.analyses if a.change} == {"os_dl": "added", "pfs": "changed: method"}
    md = d.to_markdown()
    assert "The evidence did not change" in md and "new estimate" not in md and "boundary" not in md
    assert DEVELOPER_TEXT not in md and "revision 4 — analyses only (analyses.yaml)" in md

    api.report(proj.database, tmp_path / "report", project=proj)
    page = plain((tmp_path / "report" / "report.md").read_text())
    assert "Revision 4: analyses only; no revision note" in page
    assert "Revision note:" not in page and DEVELOPER_TEXT not in page and "Merge dev" not in page
    new = page[page.index("## What's new in this version"):page.index("## Summary of findings")
                                                            if "## Summary of findings" in page else None]
    new = new[:new.index("\n## ", 5)]
    assert "The evidence did not change" in new
    assert "OS, DerSimonian-Laird (os_dl): added" in new
    assert "whose conclusion the evidence changed:" not in new and "that the evidence moved" not in new
    assert "Sequential monitoring" not in new


def test_a_mixed_span_attributes_moves_to_the_evidence_only(project):
    """Across revisions that both change the evidence and an analysis, an analysis that changed is
    compared on the same specification (today's, on the earlier evidence): the evidence's effect is
    flagged, the change of the analysis is named apart."""
    proj = project
    _developer_merge(proj)
    d = api.diff(proj.database, 2, 4)
    assert [t.trial_id for t in d.trials] == ["synthetic-00004"]
    os_dl = next(a for a in d.analyses if a.analysis == "os_dl")
    assert os_dl.change == "added" and os_dl.evidence_before["k"] == 3 and os_dl.new["k"] == 4
    assert "k 3 → 4" in os_dl.flags and "new estimate" not in os_dl.flags
    os_ = next(a for a in d.analyses if a.analysis == "os")
    assert os_.change is None and "k 3 → 4" in os_.flags


def test_notes_are_the_reviews_own_words(project):
    """A reviewer's plain commit of study files speaks for the review (its message is the note); a
    commit that also changes code speaks for its developer (no note) unless it carries a
    `Livemeta-Note:` trailer; `livemeta ingest -m`, `version add -m` and `resolve -m` write notes."""
    proj = project
    api.ingest([write_study(proj, 1), write_study(proj, 2)], message="add two trials", project=proj)
    git(proj.root, "rm", "-q", "studies/synthetic-00002.yaml")
    git(proj.root, "commit", "-q", "-m", "withdraw SYNTHETIC-00002 (duplicate publication)")
    d = yaml.safe_load((proj.studies / "synthetic-00001.yaml").read_text())
    d["outcomes"][0]["note"] = "checked against Table 2"
    (proj.studies / "synthetic-00001.yaml").write_text(yaml.safe_dump(d, sort_keys=False))
    (proj.root / "tool.py").write_text("print(1)\n")
    git(proj.root, "add", "-A")
    git(proj.root, "commit", "-q", "-m", "refactor the tool; touch a study file")
    d["outcomes"][0]["note"] = "checked against Table 2 and the supplement"
    (proj.studies / "synthetic-00001.yaml").write_text(yaml.safe_dump(d, sort_keys=False))
    (proj.root / "tool.py").write_text("print(2)\n")
    git(proj.root, "add", "-A")
    git(proj.root, "commit", "-q", "-m", "tool v2\n\nLivemeta-Note: SYNTHETIC-00001: the supplement agrees")
    api.build(proj)
    api.version_add("update-1", description="first update", project=proj)
    log = api.log(proj.database)
    assert [(e.revision.revision_id, e.revision.label, e.revision.note) for e in log] == [
        (1, "start", "Start the livemeta project: Test review"),
        (2, "evidence", "add two trials"),
        (3, "evidence", "withdraw SYNTHETIC-00002 (duplicate publication)"),
        (4, "evidence", None),
        (5, "evidence", "SYNTHETIC-00001: the supplement agrees"),
    ]
    assert log[-1].version_notes == ["update-1: first update"]  # naming a version makes no revision
    out = CliRunner().invoke(main, ["log"])
    assert "refactor the tool" not in out.output and "tool v2" not in out.output


def _diff(old: dict, new: dict, flags: list[str]) -> RevisionDiff:
    from livemeta.living.diff import RevisionInfo

    return RevisionDiff(1, 2, [], [AnalysisChange("os", "HR", old, new, flags)],
                        [RevisionInfo(2, "2026-01-01", "A. Reviewer", "evidence", "add a trial", [], ["evidence"])])


def _est(estimate, lo, hi, **kw) -> dict:
    return {"estimate": estimate, "ci_low": lo, "ci_high": hi, "pi_low": lo, "pi_high": hi, "k": 7, "tau2": 0.0,
            "i2": 0.0, **kw}


def _whats_new(d: RevisionDiff) -> str:
    doc = Doc()
    write_whats_new(doc, d, "since revision 1", None, {"os": "Overall survival"})
    return "\n".join(doc.md)


def test_estimates_that_moved_never_lists_identical_numbers():
    """'HR 0.90 (0.82–0.99) → HR 0.90 (0.82–0.99)' is not a move: a sequential boundary crossed with
    the same printed numbers goes under sequential monitoring; a move shows what moved."""
    same = _whats_new(_diff(_est(0.9012, 0.8203, 0.9901), _est(0.9049, 0.8221, 0.9861, i2=0.0),
                            ["sequential efficacy boundary crossed"]))
    assert "HR 0.90 (0.82–0.99) → HR 0.90 (0.82–0.99)" not in same
    assert "the evidence moved" not in same and "Overall survival (os): sequential efficacy boundary crossed" in same
    moved = _whats_new(_diff(_est(0.90, 0.82, 0.99), _est(0.90, 0.82, 0.99, k=8, i2=12.0),
                             ["k 7 → 8", "heterogeneity changed"]))
    assert ("Overall survival (os): HR 0.90 (0.82–0.99), k 7, I² 0% → HR 0.90 (0.82–0.99), k 8, I² 12%; "
            "k 7 → 8, heterogeneity changed") in moved


def test_a_merge_note_of_several_commits_is_shown_whole():
    """A merge's note is one line per commit it brings (each its own note): diff and the report's
    What's new show every one of them, not only the first (revision 9 of the bundled history brings
    the thresholds' direction and the single-arm cohorts combined)."""
    from livemeta.living.diff import RevisionInfo

    info = RevisionInfo(9, "2026-12-05", "A. Reviewer", "evidence and analyses",
                        "Thresholds carry their direction.\nSingle-arm response counts each trial once.", [], None)
    assert info.line() == ("revision 9 — evidence and analyses — 2026-12-05, A. Reviewer — Thresholds carry their "
                           "direction. Single-arm response counts each trial once.")
