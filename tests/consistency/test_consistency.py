"""One number, one definition: every artifact of every revision agrees with what was pooled.

For the bundled project at every revision of its history, and for a generated project with derived
variances, a multi-cohort trial, a new trial and a corrected CI (scenario.py), each revision is
rendered once as a user gets it (pool --json, the data package, the report in HTML and Markdown
with its figures, cumulative; artifacts.render) and every study interval, weight, estimate, CI,
PI (with its label), k and participant count is compared across them (artifacts.problems). The
data packages are reproduced with metafor: by reproduce.R itself where R is installed, else
against its committed output for every revision (tests/export/reference/make_reproduced.py).

The renders are made once per module and shared by the tests (a report into one folder keeps the
figures whose numbers did not change, as it does for a user).
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from livemeta import api
from livemeta.project import find_project
from tests.conftest import REPO

from . import artifacts
from .artifacts import Artifacts, problems, render
from .scenario import scenario_project

REFERENCE = REPO / "tests" / "export" / "reference"
REPRODUCED = {name: json.loads((REFERENCE / f"{name}_reproduced.json").read_text())
              for name in ("bundled_history", "scenario")}


def _render_all(db: Path, work: Path, name: str, project) -> list[Artifacts]:
    return [render(db, r.revision_id, work, name=name, project=project, report_dir=work / "report")
            for r in api.revisions(db)]


@pytest.fixture(scope="module")
def bundled(bundled_db, tmp_path_factory) -> list[Artifacts]:
    return _render_all(bundled_db, tmp_path_factory.mktemp("bundled-renders"), "bundled", find_project(REPO))


@pytest.fixture(scope="module")
def scenario_project_(tmp_path_factory):
    return scenario_project(tmp_path_factory.mktemp("scenario") / "project")


@pytest.fixture(scope="module")
def scenario(scenario_project_, tmp_path_factory) -> list[Artifacts]:
    proj = scenario_project_
    return _render_all(proj.database, tmp_path_factory.mktemp("scenario-renders"), "scenario", proj)


def test_every_revision_of_the_bundled_history_agrees_across_its_artifacts(bundled, bundled_db):
    assert [a.revision for a in bundled] == list(range(1, len(bundled) + 1)) and len(bundled) >= 5
    found = [p for a in bundled for p in problems(a, grade_domains=False)]
    found += [p for a in bundled for p in artifacts.evidence_problems(bundled_db, REPO, "data/studies", a.revision)]
    assert found == []
    os_ = bundled[-1].pool["os"]  # the checks ran on real numbers
    assert os_["k"] == 7 and round(os_["estimate"], 3) == 0.898 and os_["participants"]["known"] == 2294


def test_every_revision_of_the_scenario_agrees_across_its_artifacts(scenario, scenario_project_):
    assert [a.revision for a in scenario] == [1, 2, 3, 4]
    assert [p for a in scenario for p in problems(a)] == []  # its prediction intervals, GRADE file or not
    proj = scenario_project_
    assert [p for a in scenario for p in artifacts.evidence_problems(proj.database, proj.root, "studies", a.revision)] == []


def test_the_scenario_exercises_every_derivation_a_new_trial_a_correction_and_cohorts(scenario):
    """What the scenario's revisions hold, so that the checks above cannot pass on less."""
    first, new, corrected = scenario[1], scenario[2], scenario[3]
    derivations = {s["derivation"] for s in corrected.pool["os"]["studies"]}
    assert derivations == {"ci", "p_value", "oe_v", "logrank_chisq", "p_events", "logrank_events"}
    assert {s["trial_id"] for s in corrected.pool["os"]["studies"] if s["interval"] == "derived"} == {
        "mixed-00002", "mixed-00004", "mixed-00005", "mixed-00008", "mixed-00014"}
    p_reading = {s["trial_id"]: s for s in corrected.pool["os_s1800a_p"]["studies"]}["mixed-00007"]
    assert p_reading["derivation"] == "p_value" and p_reading["printed"] == "HR 0.99 (95% CI 0.81–1.22)"
    assert corrected.pool["os_s1800a_80"]["studies"][-1]["interval"] in ("printed", "derived")
    assert "mixed-00014" not in first.pool["os"]["trials"] and "mixed-00014" in new.pool["os"]["trials"]
    assert new.pool["os"]["k"] == first.pool["os"]["k"] + 1 == corrected.pool["os"]["k"]
    before = {s["trial_id"]: s for s in new.pool["os"]["studies"]}["mixed-00001"]
    after = {s["trial_id"]: s for s in corrected.pool["os"]["studies"]}["mixed-00001"]
    assert (before["ci_low"], before["ci_high"], after["ci_low"], after["ci_high"]) == (0.59, 0.92, 0.60, 0.91)
    sa = corrected.pool["single_arm_orr_by_class"]
    assert sa["unit_of_analysis"]["trials"] == {"mixed-00003": 3} and sa["k"] == len(sa["trials"])
    combined = next(r for r in corrected.rows["single_arm_orr_by_class"] if r["trial_id"] == "mixed-00003")
    assert (combined["xi"], combined["ni"], combined["cohorts"]) == (str(103 * 8 // 100 + 7 + 4), str(103 + 40 + 38), "3")
    assert "(5 cohorts, combined per trial)" in corrected.md


def test_the_grade_domains_print_prediction_intervals_of_pooled_results(bundled):
    assert [p for a in bundled for p in artifacts._pi_labels(a, grade_domains=True)] == []


def test_what_is_new_lists_only_estimates_that_moved(bundled):
    assert [p for a in bundled for p in artifacts.whats_new_problems(a)] == []


def test_a_merged_history_shows_only_states_their_authors_made(tmp_path):
    """Two branches: Alice adds a trial, Bob corrects another; the lead merges both. Every revision's
    evidence must be the files of the commit it replayed (artifacts.evidence_problems): today Bob's
    commit, replayed after Alice's, shows her new trial beside his correction, which no one made."""
    from livemeta.project import new_project
    from tests.living.test_history import git, write_study

    proj, _ = new_project(tmp_path / "review", name="Team review")

    def commit(message, *paths):  # as each author's clone would push it
        git(proj.root, "add", *paths)
        git(proj.root, "commit", "-q", "-m", message)

    commit("add two trials", write_study(proj, 1), write_study(proj, 2))
    main = git(proj.root, "branch", "--show-current")
    git(proj.root, "switch", "-q", "-c", "alice")
    commit("add SYNTHETIC-00003", write_study(proj, 3))
    git(proj.root, "switch", "-q", main)
    git(proj.root, "switch", "-q", "-c", "bob")
    commit("correct SYNTHETIC-00002", write_study(proj, 2, note="checked against the full text"))
    git(proj.root, "switch", "-q", main)
    git(proj.root, "merge", "-q", "--no-ff", "-m", "Merge alice", "alice")
    git(proj.root, "merge", "-q", "--no-ff", "-m", "Merge bob", "bob")
    api.build(proj)
    found = [p for r in api.revisions(proj.database)
             for p in artifacts.evidence_problems(proj.database, proj.root, "studies", r.revision_id)]
    assert found == []


# ------------------------------------------------------------------------------ R, every revision
def _has_r_with_metafor() -> bool:
    if shutil.which("Rscript") is None:
        return False
    return subprocess.run(["Rscript", "-e", "library(metafor)"], capture_output=True).returncode == 0


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_the_committed_r_output_was_made_by_todays_reproduce_r():
    """A change to reproduce.R (e.g. rebuilding every HR variance from the CI again, issue 20's
    first defect) needs the output regenerated with R, where it must pass."""
    from tests.export.reference.make_reproduced import script_sha256

    for name, doc in REPRODUCED.items():
        assert doc["reproduce_R_sha256"] == script_sha256(), f"reproduce.R changed: run {REFERENCE}/make_reproduced.py"
        for revision, out in doc["revisions"].items():
            assert all(r["ok"] for r in out["results"]), (name, revision)
            assert (out["r_version"], out["metafor_version"]) == ("R version 4.2.2 Patched (2022-11-10 r83330)", "3.8.1")


@pytest.mark.parametrize("name", ["bundled", "scenario"])
def test_every_revision_reproduces_with_metafor(name, request):
    """Each revision's stored numbers against metafor: with R, reproduce.R runs on every package and
    gives its committed output; without R, the committed output is of these very inputs (MD5) and
    every stored number is within its tolerance of metafor's."""
    renders = request.getfixturevalue(name)
    doc = REPRODUCED["bundled_history" if name == "bundled" else "scenario"]
    assert sorted(doc["revisions"], key=int) == [str(a.revision) for a in renders], \
        f"the {name} history has other revisions than the committed R output: run {REFERENCE}/make_reproduced.py"
    with_r = _has_r_with_metafor()
    ran: dict[tuple, list] = {}  # reproduce.R's results by its inputs: a revision that changed no analysis runs no R
    for a in renders:
        expected = doc["revisions"][str(a.revision)]
        for file in ("analysis_rows.csv", "pooled_estimates.csv"):
            assert _md5(a.package / "data" / file) == expected["inputs_md5"][file], \
                f"{name} revision {a.revision}: {file} changed: run {REFERENCE}/make_reproduced.py"
        stored = {(r["analysis_id"], r["stratum"]): r for r in artifacts._csv(a.package / "data" / "pooled_estimates.csv")}
        checked = 0
        for r in expected["results"]:
            if r["quantity"] == "stored" or r["quantity"].startswith("max |"):
                continue
            mine = float(stored[(r["analysis"], r["stratum"])][r["quantity"]])
            assert mine == r["livemeta"] and abs(r["metafor"] - mine) <= r["tolerance"] * max(1.0, abs(mine)), r
            checked += 1
        assert checked >= (200 if a.pool["os"]["k"] else 0)
        if with_r:
            inputs = tuple(_md5(a.package / "data" / f) for f in ("analyses.csv", "analysis_rows.csv", "pooled_estimates.csv"))
            if inputs not in ran:
                run = subprocess.run(["Rscript", str(a.package / "reproduce.R")], capture_output=True, text=True)
                assert run.returncode == 0 and "all within tolerance" in run.stdout, run.stdout + run.stderr
                ran[inputs] = json.loads((a.package / "reproduced.json").read_text())["results"]
            fresh = ran[inputs]
            assert [(r["analysis"], r["stratum"], r["quantity"]) for r in fresh] == \
                   [(r["analysis"], r["stratum"], r["quantity"]) for r in expected["results"]]
            for x, y in zip(fresh, expected["results"]):
                assert x["metafor"] == pytest.approx(y["metafor"], rel=1e-12, abs=1e-15) and x["ok"]


# ------------------------------------------------------------------------------ the checks can fail
def _tampered(a: Artifacts, edit) -> Artifacts:
    b = copy.copy(a)
    b.pool = copy.deepcopy(a.pool)
    b.rows = copy.deepcopy(a.rows)
    b.stored = copy.deepcopy(a.stored)
    b.cumulative = copy.deepcopy(a.cumulative)
    edit(b)
    return b


def test_each_kind_of_disagreement_is_caught(bundled):
    """The checks find a wrong number in any one artifact (each edit below is one displayed number
    changed in one place), so that the assertions above cannot pass by accident."""
    a = bundled[-1]
    assert problems(a, grade_domains=False) == []

    def printed_where_derived(b):  # issue 20 defect 2: the printed interval beside a derived variance
        s1800a = next(s for s in b.pool["os_s1800a_p"]["studies"] if s["trial_id"] == "lung-map-s1800a")
        s1800a.update(ci_low=0.51, ci_high=0.92)
        row = next(r for r in b.rows["os_s1800a_p"] if r["trial_id"] == "lung-map-s1800a")
        row.update(shown_ci_low="0.51", shown_ci_high="0.92")

    def weight(b):
        b.pool["os"]["studies"][0]["weight"] += 0.2

    def stored_pi(b):
        b.stored[("pfs_re", "overall")]["pi_label"] = "REML"

    def k(b):
        b.pool["orr"]["k"] += 1

    def participants(b):
        b.pool["os"]["participants"]["known"] += 1

    def cumulative_first(b):
        b.cumulative["os"][0]["ci_high"] = 0.92 if b.cumulative["os"][0]["ci_high"] != 0.92 else 0.93

    def report_pi(b):
        b.md = b.md.replace("0.59–1.27 (REML, t(k-1) = t(4), HKSJ)", "0.66–1.14 (REML)")

    def forest(b):  # the plot draws another interval than the one pooled
        b.svgs = dict(a.svgs, **{"forest_os.svg": [t.replace("0.69 [0.51, 0.92]", "0.69 [0.44, 1.07]")
                                                   for t in a.svgs["forest_os.svg"]]})

    for edit in (printed_where_derived, weight, stored_pi, k, participants, cumulative_first, report_pi, forest):
        found = problems(_tampered(a, edit), grade_domains=False)
        assert found, f"{edit.__name__} was not caught"

    def moved_unmoved(b):  # issue 20 defect 4: an estimate listed as moved that prints the same
        head, rest = b.md.split("## What's new in this version", 1)
        b.md = (head + "## What's new in this version" + rest.replace(
            "\n\n", "\n\nOther estimates that the evidence moved at the printed precision:\n\n"
            "- Overall survival (os): HR 0.90 (0.82–0.99) → HR 0.90 (0.82–0.99); estimate moved\n\n", 1))

    assert not artifacts.whats_new_problems(a)
    assert artifacts.whats_new_problems(_tampered(a, moved_unmoved)) == [
        f"{a.where('os')}: listed as moved, HR 0.90 (0.82–0.99) → HR 0.90 (0.82–0.99) (estimate moved)"]
