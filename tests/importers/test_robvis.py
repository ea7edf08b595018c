"""Risk of bias in robvis's CSV layout: robvis's own example data imported into fictional study
files, validated, ingested, read back through the views and exported again unchanged."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner

from livemeta import api
from livemeta.cli import main
from livemeta.errors import LivemetaError, ValidationFailed
from livemeta.importers import robvis

from ..fictional import ROB2_CSV, ROB2_OVERALL, ROBINS_I_CSV, fictional_project, fictional_study


def run(*args):
    return CliRunner().invoke(main, list(map(str, args)))


@pytest.fixture(scope="module")
def fict(tmp_path_factory):
    """Nine fictional RCTs with robvis's example RoB 2 judgements of OS as their consensus."""
    return fictional_project(tmp_path_factory.mktemp("fict") / "review")


def query(proj, sql):
    return api.query(proj.database, sql).rows


# ------------------------------------------------------------------------------------ parsing
def test_robvis_example_files_parse():
    rows = robvis.parse(ROB2_CSV.read_text(), "data_rob2.csv", "rob2")
    assert [r.study for r in rows] == [f"Study {i}" for i in range(1, 10)]
    assert [r.judgements["Overall"] for r in rows] == ROB2_OVERALL
    assert rows[2].judgements["D1"] == "no_information" and rows[2].line == 4
    rows = robvis.parse(ROBINS_I_CSV.read_text(), "data_robins_i.csv", "robins_i")
    assert len(rows) == 10 and rows[0].judgements == {
        "D1": "moderate", "D2": "critical", "D3": "low", "D4": "low", "D5": "moderate", "D6": "moderate",
        "D7": "moderate", "Overall": "critical"}


def test_bad_robvis_files_name_every_cell():
    with pytest.raises(ValidationFailed) as e:
        robvis.parse("Study,D1,D2,D3,D4,D5\nA,Low,Low,Low,Low,Low\n", "x.csv", "rob2")
    assert "x.csv: line 1: the header is 'Study,D1,D2,D3,D4,D5'; robvis's RoB 2 layout is " \
           "'Study,D1,D2,D3,D4,D5,Overall'" in str(e.value)
    text = "Study,D1,D2,D3,D4,D5,Overall\nA,Low,Moderate,Low,Low,Low,Low\nA,Low,Low,Low,Low,Low,Hgh\n,Low\n"
    with pytest.raises(ValidationFailed) as e:
        robvis.parse(text, "x.csv", "rob2")
    msg = str(e.value)
    assert "x.csv: line 2.D2: 'Moderate' is not a RoB 2 judgement (Low, Some concerns, High, No information)" in msg
    assert "x.csv: line 3.Study: 'A' is also on line 2" in msg
    assert "x.csv: line 3.Overall: 'Hgh' is not a RoB 2 judgement" in msg
    assert "x.csv: line 4.Study: no study name" in msg
    weighted = robvis.parse("Study,D1,D2,D3,D4,D5,Overall,Weight\nA,low,some concerns,HIGH,Low,Low,High,12.5\n",
                            "w.csv", "rob2")
    assert weighted[0].weight == 12.5 and weighted[0].judgements["D2"] == "some_concerns"


# ------------------------------------------------------------------------- import and export
def test_import_writes_entries_that_validate_ingest_and_export_unchanged(fict):
    # robvis's example file comes back byte for byte (line endings as written)
    text, notes = api.rob_export(fict.database, tool="rob2", endpoint="os")
    assert text == ROB2_CSV.read_text().replace("\r\n", "\n") and notes == []
    study = yaml.safe_load((fict.studies / "study-4.yaml").read_text())
    (entry,) = study["risk_of_bias"]
    assert entry["id"] == "os-consensus" and entry["role"] == "consensus" and entry["source"] == "paper"
    assert entry["domains"]["D3"] == {"judgement": "high", "support": "robvis CSV data_rob2.csv, line 5 (Study 4): "
                                                                      "no support text recorded"}
    assert entry["overall"]["judgement"] == "high"


def test_weighted_export_carries_each_trials_weight_in_the_analysis(fict):
    run_ = api.pool(fict.database, ["os"])
    weights = dict(zip(run_.results[0].studies["label"], run_.results[0].studies["weight"]))
    text, _ = api.rob_export(fict.database, tool="rob2", endpoint="os", analysis="os")
    lines = text.splitlines()
    assert lines[0] == "Study,D1,D2,D3,D4,D5,Overall,Weight"
    row = dict(zip(lines[0].split(","), lines[5].split(",")))
    assert row["Study"] == "Study 5" and row["Overall"] == "High"
    assert float(row["Weight"]) == pytest.approx(weights["Study 5"], abs=0.005)
    assert sum(float(line.split(",")[-1]) for line in lines[1:]) == pytest.approx(100, abs=0.05)


def test_views_list_domains_in_force_and_sensitivity(fict):
    rows = query(fict, "select domain, judgement, domain_name from risk_of_bias where trial = 'Study 3' order by domain_no")
    assert [r[0] for r in rows] == ["D1", "D2", "D3", "D4", "D5", "Overall"]
    assert rows[0] == ("D1", "no_information", "Bias arising from the randomisation process")
    assert query(fict, "select count(*), count(distinct trial_id) from risk_of_bias") == [(54, 9)]
    in_force = query(fict, "select status, overall_judgement from risk_of_bias_in_force order by trial_id")
    assert {s for s, _ in in_force} == {"consensus"}
    # the analysis views carry the judgement; leaving out high risk of bias keeps Studies 1, 2, 3 and 8
    assert query(fict, "select rob_overall from analysis_rct_os where trial = 'Study 5'") == [("high",)]
    run_ = api.pool(fict.database, ["os"], exclude_high_rob=True)
    (res,) = run_.results
    assert res.spec.id == "os[without_high_rob]" and run_.stored == "not stored"
    assert sorted(res.studies["label"]) == ["Study 1", "Study 2", "Study 3", "Study 8"]


def test_two_reviewers_disagreements_are_listed_with_the_consensus(tmp_path):
    proj = fictional_project(tmp_path / "review", n=3, rob=False)
    r2 = tmp_path / "reviewer2.csv"
    lines = ROB2_CSV.read_text().splitlines()[:4]
    lines[2] = "Study 2,Low,Low,Low,High,Low,High"  # reviewer 2 differs on D1, D4 and Overall of Study 2
    r2.write_text("\n".join(lines) + "\n")
    r1 = tmp_path / "reviewer1.csv"
    r1.write_text("\n".join(ROB2_CSV.read_text().splitlines()[:4]) + "\n")
    for csv_file, role, who in ((r1, "reviewer_1", "A. Reviewer"), (r2, "reviewer_2", "B. Reviewer")):
        res = run("rob", "import", csv_file, "--endpoint", "os", "--role", role, "--assessor", who,
                  "--project", proj.root, "--write")
        assert res.exit_code == 0, res.output
    paths = [proj.studies / f"study-{i}.yaml" for i in (1, 2, 3)]
    api.ingest(paths, message="two reviewers", project=proj, supersede=True)
    rows = query(proj, "select trial, domain, reviewer_1, reviewer_2, consensus from risk_of_bias_disagreements")
    assert rows == [("Study 2", "D1", "some_concerns", "low", None), ("Study 2", "D4", "low", "high", None),
                    ("Study 2", "Overall", "some_concerns", "high", None)]
    assert query(proj, "select status, overall_judgement from risk_of_bias_in_force order by trial_id") == [
        ("awaiting consensus", None)] * 3
    # an analysis never uses a judgement still awaiting consensus
    assert query(proj, "select count(rob_overall) from analysis_rct_os") == [(0,)]


def test_import_refuses_all_rows_when_one_is_wrong_and_writes_nothing(fict, tmp_path):
    before = {p: p.read_bytes() for p in fict.studies.iterdir()}
    bad = tmp_path / "bad.csv"
    bad.write_text("Study,D1,D2,D3,D4,D5,Overall\nStudy 1,Low,Low,Low,Low,Low,Low\nStudy 99,Low,Low,Low,Low,Low,Low\n")
    res = run("rob", "import", bad, "--endpoint", "pfs", "--role", "reviewer_1", "--assessor", "X",
              "--project", fict.root, "--write")
    assert res.exit_code == 2 and "bad.csv: line 3.Study: 'Study 99' names no trial of the project" in res.output
    assert "Traceback" not in res.output
    res = run("rob", "import", ROB2_CSV, "--endpoint", "os", "--role", "consensus", "--assessor", "X",
              "--project", fict.root, "--write")
    assert res.exit_code == 2 and "study-1.yaml has a consensus assessment of os already" in res.output
    # a judgement the study file refuses (overall less severe than a domain) is caught before writing
    lenient = tmp_path / "lenient.csv"
    lenient.write_text("Study,D1,D2,D3,D4,D5,Overall\nStudy 1,High,Low,Low,Low,Low,Low\n")
    res = run("rob", "import", lenient, "--endpoint", "pfs", "--role", "reviewer_1", "--assessor", "X",
              "--project", fict.root, "--write")
    assert res.exit_code == 2
    assert "risk_of_bias[1].overall.judgement: overall 'low' is less severe than a domain judged 'high'" in res.output
    assert {p: p.read_bytes() for p in fict.studies.iterdir()} == before


def test_import_needs_a_source_when_a_trial_has_several(tmp_path):
    proj = fictional_project(tmp_path / "review", n=1, rob=False)
    path = proj.studies / "study-1.yaml"
    d = yaml.safe_load(path.read_text())
    d["sources"].append({"id": "abstract", "kind": "congress_abstract", "citation": "Fictional abstract 2015",
                         "url": "https://example.org/abstract"})
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    csv_file = tmp_path / "one.csv"
    csv_file.write_text("Study,D1,D2,D3,D4,D5,Overall\nstudy-1,Low,Low,Low,Low,Low,Low\n")
    with pytest.raises(ValidationFailed, match=r"give --source \(one of: paper, abstract\)"):
        api.rob_import(csv_file, tool="rob2", endpoint="os", role="reviewer_1", assessor="X", project=proj)
    shown = api.rob_import(csv_file, tool="rob2", endpoint="os", role="reviewer_1", assessor="X", source="abstract",
                           project=proj)
    assert not shown.written and "source: abstract" in shown.entries[path]
    assert "would add a risk_of_bias entry to 1 study file (synthetic-00001)" in shown.summary()


def test_robins_i_round_trip(tmp_path):
    proj = fictional_project(tmp_path / "review", n=10, rob=False)
    res = api.rob_import(ROBINS_I_CSV, tool="robins_i", endpoint="orr", role="consensus", assessor="X", project=proj,
                         write=True)
    assert res.written and len(res.entries) == 10
    api.ingest(sorted(proj.studies.glob("study-*")), message="ROBINS-I", project=proj, supersede=True)
    text, _ = api.rob_export(proj.database, tool="robins_i", endpoint="orr")
    assert sorted(text.splitlines()[1:]) == sorted(ROBINS_I_CSV.read_text().splitlines()[1:])
    assert text.splitlines()[0] == "Study,D1,D2,D3,D4,D5,D6,D7,Overall"


def test_an_entry_added_to_a_json_study_file(tmp_path):
    import json

    from livemeta.ingest.parse import parse_file

    path = tmp_path / "study-1.json"
    path.write_text(json.dumps(fictional_study(1), indent=2))
    (row,) = robvis.parse("Study,D1,D2,D3,D4,D5,Overall\nStudy 1,Low,Low,High,Low,Low,High\n", "j.csv", "rob2")
    study = parse_file(path)
    [(_, entry)], problems = robvis.draft([row], [study], csv_name="j.csv", tool="rob2", endpoint="os",
                                          role="reviewer_2", assessor="X")
    assert problems == []
    data = json.loads(robvis.apply(study, entry))
    assert data["risk_of_bias"][0]["domains"]["D3"]["judgement"] == "high" and data["trial"] == fictional_study(1)["trial"]


def test_export_of_an_unassessed_outcome_says_so(fict):
    text, notes = api.rob_export(fict.database, tool="rob2", endpoint="pfs")
    assert text == "Study,D1,D2,D3,D4,D5,Overall\n"
    assert notes == ["no trial has a RoB 2 judgement of pfs in force at revision 3"]
    with pytest.raises(LivemetaError, match="--tool 'rob3' is not one of: rob2, robins_i"):
        api.rob_export(fict.database, tool="rob3", endpoint="os")


# ------------------------------------------------------------------------ study-file rules
def _entry(**kw):
    domains = {f"D{i}": {"judgement": "low", "support": "s"} for i in range(1, 6)}
    return {"id": "os-r1", "tool": "rob2", "endpoint": "os", "role": "reviewer_1", "assessor": "X", "source": "paper",
            "domains": domains, "overall": {"judgement": "low", "support": "s"}} | kw


@pytest.mark.parametrize("change, path, reason", [
    (lambda d: d["risk_of_bias"][0]["domains"].pop("D5"), "risk_of_bias[0].domains.D5", "missing required field 'D5'"),
    (lambda d: d["risk_of_bias"][0]["domains"].update(D6={"judgement": "low", "support": "s"}),
     "risk_of_bias[0].domains.D6", "RoB 2 has domains D1-D5"),
    (lambda d: d["risk_of_bias"][0]["domains"]["D2"].update(judgement="moderate"),
     "risk_of_bias[0].domains.D2.judgement", "'moderate' is not a RoB 2 judgement"),
    (lambda d: d["risk_of_bias"][0]["domains"]["D2"].update(judgement="high"),
     "risk_of_bias[0].overall.judgement", "overall 'low' is less severe than a domain judged 'high'"),
    (lambda d: d["risk_of_bias"].append(_entry(id="again")), "risk_of_bias[1].role",
     "risk_of_bias[0] is already the reviewer_1 assessment of os"),
    (lambda d: d["risk_of_bias"][0].update(result="orr"), "risk_of_bias[0].result", "outcome 'orr' is orr, not os"),
    (lambda d: d["risk_of_bias"][0].update(source="nowhere"), "risk_of_bias[0].source", "unknown source 'nowhere'"),
    (lambda d: d["risk_of_bias"][0].update(tool="robins_i"), "risk_of_bias[0].domains.D6",
     "missing required field 'D6' (ROBINS-I has seven domains)"),
    (lambda d: d["risk_of_bias"][0]["domains"]["D1"].pop("support"), "risk_of_bias[0].domains.D1.support",
     "missing required field 'support'"),
])
def test_study_file_rules(tmp_path, change, path, reason):
    from livemeta.ingest import validate_files

    d = fictional_study(1)
    d["risk_of_bias"] = [_entry()]
    change(d)
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(d, sort_keys=False))
    report = validate_files([f], raise_on_problems=False)
    assert any(p.path == path and reason in p.reason for p in report.problems), report.problems


def test_rob2_is_for_randomised_trials(tmp_path):
    from livemeta.ingest import validate_files

    from livemeta.paths import resource

    d = yaml.safe_load(resource("ingest", "examples", "single-arm.yaml").read_text())
    src = d["sources"][0]["id"]
    d["risk_of_bias"] = [_entry(source=src, endpoint="orr")]
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(d, sort_keys=False))
    report = validate_files([f], raise_on_problems=False)
    assert [(p.path, p.reason.split(" (line")[0]) for p in report.problems] == [
        ("risk_of_bias[0].tool", "RoB 2 assesses randomised trials; use robins_i for non-randomised evidence")]


# --- issue 21: messages instead of tracebacks -------------------------------------------------


@pytest.mark.parametrize("date, why", [
    ("2026-02-30", "is not a real date: it has no day 30 (February 2026 has 28 days)"),
    ("2026-13-01", "is not a real date: it has no month 13 (months are 01-12)"),
    ("2026-2-3", "is not a date written YYYY-MM-DD"),
])
def test_rob_import_with_a_date_that_does_not_exist(fict, date, why):
    before = {p: p.read_bytes() for p in fict.studies.iterdir()}
    res = run("rob", "import", ROB2_CSV, "--endpoint", "pfs", "--role", "reviewer_1", "--assessor", "X",
              "--date", date, "--project", fict.root, "--write")
    assert res.exit_code == 1, res.output
    assert f"error: --date '{date}' {why}" in res.output
    assert "Traceback" not in res.output and "livemeta bug" not in res.output
    assert {p: p.read_bytes() for p in fict.studies.iterdir()} == before


def test_rob_import_with_a_200_kb_cell(fict, tmp_path):
    big = tmp_path / "big.csv"
    big.write_text("Study,D1,D2,D3,D4,D5,Overall\nStudy 1,Low,Low,Low,Low,Low,Low\n"
                   f"Study 2,{'x' * 200_000},Low,Low,Low,Low,Low\n")
    res = run("rob", "import", big, "--endpoint", "pfs", "--role", "reviewer_1", "--assessor", "X",
              "--project", fict.root)
    assert res.exit_code == 2, res.output
    assert "big.csv: line 3: a cell of more than 131,072 characters: a robvis file holds study names and judgements" \
        in res.output
    assert "Traceback" not in res.output and "_csv.Error" not in res.output


def test_rob_import_of_a_header_only_file(fict, tmp_path):
    head = tmp_path / "head.csv"
    head.write_text("Study,D1,D2,D3,D4,D5,Overall\n")
    res = run("rob", "import", head, "--endpoint", "pfs", "--role", "reviewer_1", "--assessor", "X",
              "--project", fict.root)
    assert res.exit_code == 2, res.output
    assert "head.csv: no study rows: the file has its header and nothing under it" in res.output
    assert "no study files given" not in res.output
