"""``livemeta export``: a Frictionless data package of one version, and an R script that reproduces
every stored analysis with metafor from those files alone.

Without R, the committed output of that script for the bundled version review-2025 (revision 1 of
reference/bundled_history_reproduced.json, made by reference/make_reproduced.py for every revision;
tests/consistency checks the others) is checked against a fresh export: the inputs R read are byte
for byte the ones exported now (MD5), and every number metafor computed equals the stored one within
1e-8 (closed-form estimators) or 1e-6 (iterative ones). Where R and metafor are installed, the
script runs on the fresh package.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from livemeta import api
from livemeta.cli import main

HERE = Path(__file__).resolve().parent
EXPECTED = json.loads((HERE / "reference" / "bundled_history_reproduced.json").read_text())["revisions"]["1"]
#: the inputs whose numbers the R output depends on (analyses.csv also carries each analysis's full
#: specification, which may grow keys without changing a number)
CHECKED_INPUTS = ("analysis_rows.csv", "pooled_estimates.csv")


def _has_r_with_metafor() -> bool:
    if shutil.which("Rscript") is None:
        return False
    out = subprocess.run(["Rscript", "-e", "library(metafor)"], capture_output=True)
    return out.returncode == 0


@pytest.fixture(scope="module")
def package(bundled_db, tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "review-2025"
    result = api.export(bundled_db, out, as_of="review-2025")
    return out, result


def rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_the_package_describes_every_file_with_its_hash_and_columns(package):
    out, result = package
    dp = json.loads((out / "datapackage.json").read_text())
    assert dp["profile"] == "tabular-data-package" and dp["name"] == "livemeta-review-2025"
    assert dp["livemeta"]["revision"] == 1 and dp["livemeta"]["versions"] == ["review-2025"]
    assert len(dp["livemeta"]["commit"]) == 40 and dp["created"].endswith("Z")
    names = [r["name"] for r in dp["resources"]]
    assert names == ["trials", "sources", "arms", "resistance_definitions", "outcomes", "adverse_events",
                     "risk_of_bias", "analyses", "analysis_rows", "pooled_estimates"]
    for r in dp["resources"]:
        data = (out / r["path"]).read_bytes()
        assert r["hash"] == "sha256:" + hashlib.sha256(data).hexdigest() and r["bytes"] == len(data)
        header = data.decode().splitlines()[0].split(",")
        assert [f["name"] for f in r["schema"]["fields"]] == header
    trials = rows(out / "data" / "trials.csv")
    assert len(trials) == 29 and "valid_to" not in trials[0]  # the review's 29 trials; no future bookkeeping
    fields = {f["name"]: f["type"] for f in dp["resources"][0]["schema"]["fields"]}
    assert fields["randomised_n"] in ("integer", "number") and fields["verified"] == "boolean"
    assert (out / "reproduce.R").exists() and "Rscript reproduce.R" in (out / "README.md").read_text()
    assert result.revision == 1 and result.analyses == 14


def test_the_same_version_exports_the_same_bytes(package, bundled_db, tmp_path):
    out, _ = package
    again = tmp_path / "again"
    api.export(bundled_db, again, as_of="review-2025")
    for p in sorted((out / "data").iterdir()):
        assert (again / "data" / p.name).read_bytes() == p.read_bytes(), p.name
    assert (again / "datapackage.json").read_bytes() == (out / "datapackage.json").read_bytes()


def test_effect_sizes_are_reproducible_from_the_printed_numbers(package):
    out, _ = package
    z = {95.0: 1.959963984540054}
    for r in rows(out / "data" / "analysis_rows.csv"):
        if r["analysis_id"] != "os":
            continue
        yi = math.log(float(r["estimate"]))
        vi = ((math.log(float(r["ci_high"])) - math.log(float(r["ci_low"]))) / (2 * z[float(r["ci_level_read"])])) ** 2
        assert float(r["yi"]) == pytest.approx(yi, abs=1e-15) and float(r["vi"]) == pytest.approx(vi, rel=1e-12)


def test_the_committed_r_output_matches_the_stored_numbers(package):
    out, _ = package
    for name in CHECKED_INPUTS:
        md5 = hashlib.md5((out / "data" / name).read_bytes()).hexdigest()
        assert EXPECTED["inputs_md5"][name] == md5, f"{name} changed: run tests/export/reference/make_reproduced.py"
    stored = {(r["analysis_id"], r["stratum"]): r for r in rows(out / "data" / "pooled_estimates.csv")}
    results = EXPECTED["results"]
    assert len(results) >= 270 and all(r["ok"] for r in results)
    checked = 0
    for r in results:
        if r["quantity"] in ("stored",) or r["quantity"].startswith("max |"):
            continue
        mine = stored[(r["analysis"], r["stratum"])][r["quantity"]]
        assert float(mine) == r["livemeta"]  # the R run read exactly these stored numbers
        assert abs(r["metafor"] - float(mine)) <= r["tolerance"] * max(1.0, abs(float(mine))), r
        checked += 1
    assert checked >= 230
    # every analysis with data was reproduced, with its subgroups
    analyses = {r["analysis"] for r in results}
    assert {"os", "pfs", "orr", "os_acquired", "os_by_class", "single_arm_orr_by_class", "os_re"} <= analyses
    assert any(r["analysis"] == "os_by_class" and r["quantity"] == "q_between" for r in results)


@pytest.mark.skipif(not _has_r_with_metafor(), reason="needs Rscript with metafor (the committed output covers CI)")
def test_reproduce_r_runs_on_the_package(package, tmp_path):
    out, _ = package
    copy = tmp_path / "pkg"
    shutil.copytree(out, copy)
    run = subprocess.run(["Rscript", str(copy / "reproduce.R")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "14 analyses, 280 numbers compared with metafor" in run.stdout and "all within tolerance" in run.stdout
    fresh = json.loads((copy / "reproduced.json").read_text())
    assert [(r["analysis"], r["stratum"], r["quantity"]) for r in fresh["results"]] == \
           [(r["analysis"], r["stratum"], r["quantity"]) for r in EXPECTED["results"]]
    for a, b in zip(fresh["results"], EXPECTED["results"]):
        assert a["metafor"] == pytest.approx(b["metafor"], rel=1e-12, abs=1e-15) and a["ok"]


@pytest.mark.skipif(not _has_r_with_metafor(), reason="needs Rscript with metafor")
def test_reproduce_r_fails_when_a_stored_number_is_wrong(package, tmp_path):
    out, _ = package
    copy = tmp_path / "pkg"
    shutil.copytree(out, copy)
    path = copy / "data" / "pooled_estimates.csv"
    data = rows(path)
    row = next(r for r in data if r["analysis_id"] == "os" and r["stratum"] == "overall")
    row["estimate"] = repr(float(row["estimate"]) + 1e-6)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(data[0]))
        w.writeheader()
        w.writerows(data)
    run = subprocess.run(["Rscript", str(copy / "reproduce.R")], capture_output=True, text=True)
    assert run.returncode == 1 and "1 beyond tolerance" in run.stdout


def test_export_from_the_cli_and_refusals(bundled_db, tmp_path):
    runner = CliRunner()
    out = tmp_path / "pkg"
    res = runner.invoke(main, ["export", "--out", str(out), "--db", str(bundled_db)])
    assert res.exit_code == 0, res.output
    last = api.revisions(bundled_db)[-1].revision_id
    assert f"wrote the data package of revision {last}" in res.output and (out / "datapackage.json").exists()
    res = runner.invoke(main, ["export", "--out", str(out), "--as-of", "review-2025", "--db", str(bundled_db)])
    assert res.exit_code == 0 and json.loads((out / "datapackage.json").read_text())["livemeta"]["revision"] == 1
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    res = runner.invoke(main, ["export", "--out", str(busy), "--db", str(bundled_db)])
    assert res.exit_code == 1 and "is not a livemeta data package; nothing was written" in res.output
    assert sorted(p.name for p in busy.iterdir()) == ["notes.txt"]


def test_a_fictional_project_with_risk_of_bias_exports_its_judgements(tmp_path):
    from ..fictional import fictional_project

    proj = fictional_project(tmp_path / "review", n=3)
    out = tmp_path / "pkg"
    api.export(proj.database, out)
    rob = rows(out / "data" / "risk_of_bias.csv")
    assert len(rob) == 3 * 6 and {r["tool"] for r in rob} == {"rob2"}
    assert next(r for r in rob if r["trial"] == "Study 3" and r["domain"] == "D1")["judgement"] == "no_information"
