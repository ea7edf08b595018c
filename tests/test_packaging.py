"""livemeta as a package: a wheel installed in a fresh virtual environment, run outside the
checkout, builds the bundled evidence project and runs every command.

The wheel is built from this checkout (hatchling, no network); the fresh environment gets the wheel
and nothing else of livemeta, and borrows the test environment's installed dependencies through a
.pth file (so the test needs no network either). Every command runs in a folder outside the
checkout, on a clone of this repository named with --project.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import zipfile

import pytest

from tests.conftest import REPO


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp / "dist"),
                    str(REPO)], check=True, capture_output=True)
    (wheel,) = (tmp / "dist").glob("livemeta-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True,
                   capture_output=True)
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    (tmp / "venv" / site.split(str(venv) + "/", 1)[1] / "_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    clone = tmp / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    outside = tmp / "elsewhere"
    outside.mkdir()
    return wheel, venv, clone, outside


def test_the_wheel_carries_livemeta_s_own_files_once(installed):
    wheel = installed[0]
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("livemeta/resources/schema/0004_git_history.sql", "livemeta/resources/queries/views/trials.sql",
                   "livemeta/resources/queries/named/commits.sql", "livemeta/resources/ingest/study.schema.json",
                   "livemeta/resources/ingest/template.yaml", "livemeta/resources/ingest/expectations/outcomes.json",
                   "livemeta/resources/queries/analyses.yaml",
                   "livemeta/resources/schema/0010_search_screening.sql", "livemeta/resources/queries/screening/close_rows.sql",
                   "livemeta/resources/queries/views/screening_flow.sql"):
        assert needed in names, needed
    assert not any("__pycache__" in n or n.startswith("data/") for n in names)
    # one copy in the repository: the package has no resources folder of its own
    assert not (REPO / "src" / "livemeta" / "resources").exists()


def test_every_command_runs_from_the_wheel_outside_the_checkout(installed):
    _, venv, clone, outside = installed
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false"}
    env.pop("LIVEMETA_DB", None)

    def run(*args, ok=True):
        out = subprocess.run([str(venv / "bin" / "livemeta"), *args], cwd=outside, capture_output=True, text=True, env=env)
        if ok:
            assert out.returncode == 0, (args, out.stdout, out.stderr)
        return out

    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import livemeta; print(livemeta.__file__)"],
                           cwd=outside, capture_output=True, text=True).stdout
    assert where.startswith(str(venv)), where  # the installed wheel, not the checkout
    p = ["--project", str(clone)]
    built = run("build", *p).stdout
    last = int(re.search(r"created, revision (\d+)", built).group(1))
    assert last >= 2
    verified = run("verify", *p).stdout
    assert "agrees with the repository" in verified and "identical to a fresh replay" in verified
    assert "review-2025" in run("pool", "os", *p).stdout
    assert run("query", "select count(*) from trials", "--format", "csv", *p).stdout.split() == ["count_star()", "34"]
    assert "trials" in run("views").stdout
    assert "version review-2025" in run("log", *p).stdout
    assert f"Changes from revision {last - 1} to revision {last}" in run("diff", *p).stdout
    assert "lung-map-s1800a" in run("cumulative", "os", *p).stdout
    template = run("template").stdout
    new = clone / "data" / "studies" / "example-01.yaml"
    new.write_text(template)
    assert "1 file valid" in run("validate", str(new), *p).stdout
    assert f"revision {last + 1}" in run("ingest", str(new), "-m", "add EXAMPLE-01", *p).stdout
    assert "review-2025" in run("version", "list", *p).stdout
    assert "wrote" in run("report", "--out", str(outside / "report"), *p).stdout
    assert (outside / "report" / "index.html").exists()
    assert "wrote the data package" in run("export", "--out", str(outside / "package"), *p).stdout
    assert (outside / "package" / "reproduce.R").exists()  # the R script travels in the wheel
    assert run("rob", "export", "--endpoint", "os", *p).stdout.startswith("Study,D1,D2,D3,D4,D5,Overall")
    assert "schema version" in run("init", "--db", str(outside / "empty.duckdb")).stdout
    made = run("new-project", str(outside / "team"), "--name", "A team's review")
    assert "created the evidence project" in made.stdout
    assert "revision 1" in run("build", "--project", str(outside / "team")).stdout
    assert run("resolve", "nothing", *p, ok=False).returncode == 1
    assert "required information" in run("monitor", "os", "--target-hr", "0.80", *p).stdout
    record = REPO / "tests" / "importers" / "fixtures" / "NCT02210780.json"
    assert "FILL IN" in run("import", "ctgov", str(record)).stdout
    team = ["--project", str(outside / "team")]
    ris = REPO / "tests" / "search" / "fixtures" / "embase.ris"
    added = run("search", "add", str(ris), "--source", "Embase", "--query", "q", "--date", "2026-03-01", "-m", "Embase", *team)
    assert "search embase-2026-03-01: 6 records" in added.stdout
    assert "committed" in run("screen", "decide", "embase-2026-03-01/1", "--stage", "ta", "--decision", "include",
                              "--reviewer", "A", "-m", "A's decision", *team).stdout


def test_the_wheel_test_covers_every_command():
    import inspect

    from livemeta.cli import main

    body = inspect.getsource(test_every_command_runs_from_the_wheel_outside_the_checkout)
    assert {name for name in main.commands if f'run("{name}"' not in body} == set()
