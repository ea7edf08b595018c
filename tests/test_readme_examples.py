"""The README as a newcomer reads it (issue 21): every command line of its Examples block runs, as
written and in order, in a fresh clone of this repository, and the figures the README states about
the bundled evidence are those of the database.

Where a line says what must come first ("after a merge conflict", "then fill it in"), the test does
that first, as a user would: two branches correct CONTACT-01 and are merged before `livemeta
resolve`; the CONTACT-01 study file is edited before it is ingested with --supersede; the
ClinicalTrials.gov record the import example names is the one in tests/importers/fixtures.
"""

from __future__ import annotations

import math
import re
import shlex
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from livemeta.cli import main

from .conftest import REPO

FIXTURES = REPO / "tests" / "importers" / "fixtures"


def examples() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("### Examples", 1)[1].split("```", 2)[1]
    return [line for line in block.splitlines() if line.startswith("livemeta ")]


def git(cwd, *args) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def _replace(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _merge_two_corrections_of_contact_01(clone) -> None:
    """Two branches correct CONTACT-01 (two different lines: git merges them without a conflict of
    its own), both merged: the merge nobody reviewed that `livemeta resolve` is for."""
    main_branch = git(clone, "branch", "--show-current")
    study = clone / "data" / "studies" / "contact-01.yaml"
    for branch, old, new in (("a", "read as the PubMed abstract", "read as the PubMed abstract (checked by A)"),
                             ("b", "no number is taken from it alone", "no number is taken from it alone (checked by B)")):
        git(clone, "switch", "-q", "-c", branch, main_branch)
        _replace(study, old, new)
        git(clone, "commit", "-q", "-am", f"{branch}: check CONTACT-01's sources")
    git(clone, "switch", "-q", main_branch)
    git(clone, "merge", "-q", "--no-ff", "-m", "Merge a", "a")
    git(clone, "merge", "-q", "--no-ff", "-m", "Merge b", "b")


@pytest.fixture
def clone(tmp_path, monkeypatch):
    path = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(path)], check=True)
    monkeypatch.chdir(path)
    monkeypatch.setenv("LIVEMETA_REPORT_WORKERS", "1")
    return path


@pytest.mark.slow
def test_every_readme_example_runs_as_written(clone):
    lines = examples()
    assert len(lines) >= 35
    runner = CliRunner()
    outputs: dict[str, str] = {}
    for line in lines:
        tokens = shlex.split(line, comments=True)  # as a shell reads it: '#' starts a comment
        command = " ".join(tokens)
        if command.startswith("livemeta resolve"):
            _merge_two_corrections_of_contact_01(clone)
        if command.startswith("livemeta import ctgov"):
            shutil.copy(FIXTURES / "NCT02210780.json", clone / "NCT02210780.json")
        if "contact-01.yaml --supersede" in command:  # the new data cut, edited into the study file
            _replace(clone / "data" / "studies" / "contact-01.yaml", "results of the primary analysis published",
                     "results of the primary analysis published; final OS data cut read")
        parts, argv = [], []
        for tok in tokens + ["&&"]:
            if tok == "&&":
                parts.append(argv)
                argv = []
            else:
                argv.append(tok)
        for argv in parts:
            out_file = None
            if ">" in argv:
                i = argv.index(">")
                argv, out_file = argv[:i], argv[i + 1]
            if argv[0] == "Rscript":
                if shutil.which("Rscript") is None or subprocess.run(
                        ["Rscript", "-e", "library(metafor)"], capture_output=True).returncode != 0:
                    assert (clone / argv[1]).exists()  # (R with metafor is not installed here)
                    continue
                run = subprocess.run(argv, capture_output=True, text=True)
                assert run.returncode == 0, (line, run.stdout, run.stderr)
                assert "all within tolerance" in run.stdout
                continue
            assert argv[0] == "livemeta", line
            result = runner.invoke(main, argv[1:])
            assert result.exit_code == 0, (line, result.output, result.exception)
            assert "Traceback" not in result.output
            if out_file is not None:
                (clone / out_file).write_text(result.stdout, encoding="utf-8")
            outputs[command] = result.stdout
    # what the examples say they show
    assert re.search(r"^ +1  .*Start the evidence project", outputs["livemeta log"], re.M)
    assert "version review-2025" in outputs["livemeta log"]
    as_of = next(v for k, v in outputs.items() if "--as-of 20" in k)
    assert "CONTACT-01" in as_of and "(34 rows)" in as_of  # the trials of that day's last revision
    assert (clone / "data" / "studies" / "draft.yaml").exists() and (clone / "cumulative-os.png").exists()
    assert (clone / "tsa-os.png").exists() and (clone / "report" / "index.html").exists()
    assert (clone / "unverified.csv").read_text().startswith("valid_from,valid_to,trial_id,")
    assert (clone / "review-2025-package" / "datapackage.json").exists()
    assert (clone.parent / "another-review" / "livemeta.yaml").exists()
    assert "Livemeta-Resolves: contact-01" in git(clone, "log", "--format=%B")


@pytest.mark.slow
def test_the_readme_figures_of_the_bundled_evidence_are_the_database_s(bundled_db):
    """What the README says the bundled evidence holds is what the database holds."""
    from livemeta import api

    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())

    def n(sql, as_of=None):
        return api.query(bundled_db, sql, as_of=as_of).rows[0][0]

    m = re.search(r"(\d+) of its (\d+) RCTs are identified", readme)
    assert m and int(m.group(1)) == n("select count(*) from trials where design = 'rct' and inclusion = 'included'",
                                      "review-2025") and m.group(2) == "10"
    m = re.search(r"and (\d+) single-arm trials \((\d+) included, (\d+) awaiting classification\) against the "
                  r"review's 106 are bundled", readme)
    assert m, "the README names the bundled single-arm trials"
    assert int(m.group(1)) == n("select count(*) from trials where design = 'single_arm'")
    assert int(m.group(2)) == n("select count(*) from trials where design = 'single_arm' and inclusion = 'included'")
    assert int(m.group(3)) == n("select count(*) from trials where design = 'single_arm' and inclusion = 'candidate'")
    m = re.search(r"revision 2 adds (\w+) trials reported or registered after the review's search window \(([^)]*)\)",
                  readme)
    words = {"five": 5, "four": 4, "six": 6}
    assert m and words[m.group(1)] == n("select count(*) from trials where inclusion = 'after_review'")
    assert len(m.group(2).split(", ")) == words[m.group(1)]
    # the table of what the bundled evidence reproduces: each livemeta figure is the pooled one
    results = {r.spec.id: r for r in api.pool(bundled_db, ["os", "pfs", "orr", "os_acquired"]).results}
    for label, aid in (("OS", "os"), ("PFS", "pfs"), ("ORR", "orr"), ("OS, acquired resistance", "os_acquired")):
        row = re.search(rf"\| {re.escape(label)} \| (HR|OR) ([\d.]+) \(([\d.]+)–([\d.]+)\) \|", readme)
        assert row, label
        o, digits = results[aid].overall, len(row.group(2).split(".")[1])
        assert [f"{math.exp(v):.{digits}f}" for v in (o.estimate, o.ci_low, o.ci_high)] == list(row.group(2, 3, 4)), label
