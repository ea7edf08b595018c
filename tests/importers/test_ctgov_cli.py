"""``livemeta import ctgov``: files, --nct against a local server (never the internet), --compare."""

from __future__ import annotations

import copy
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from livemeta.cli import main

from ..ingest.conftest import table_state
from .conftest import FIXTURES, ROLES, fill, load_record, record_path

PROXY_VARS = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")


def run(*args, **kw):
    return CliRunner().invoke(main, list(map(str, args)), **kw)


# ---------------------------------------------------------------------------------------------
# from a file


def test_prints_the_draft_and_says_what_to_fill(tmp_path):
    res = run("import", "ctgov", record_path("NCT02210780"))
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("# DRAFT study file from ClinicalTrials.gov NCT02210780 (API v2 record, last updated 2020-05-07)")
    assert "fill in before `livemeta validate`: arms[0].role, arms[0].treatment_class" in res.stderr


def test_writes_out_and_never_overwrites_without_force(tmp_path):
    out = tmp_path / "draft.yaml"
    res = run("import", "ctgov", record_path("NCT02028676"), "--out", out)
    assert res.exit_code == 0, res.output
    assert "draft of NCT02028676 (legacy v1 record, last updated 2014-06-06): 9 arms, 4 outcomes, 351 adverse events" in res.stdout
    first = out.read_text()
    out.write_text("curated work\n")
    res = run("import", "ctgov", record_path("NCT02028676"), "--out", out)
    assert res.exit_code == 1 and "exists; the draft was not written" in res.stderr
    assert out.read_text() == "curated work\n"
    assert run("import", "ctgov", record_path("NCT02028676"), "--out", out, "--force").exit_code == 0
    assert out.read_text() == first


@pytest.mark.parametrize("content, reason", [
    (b"", "empty"),
    (b"{not json", "not JSON"),
    (b"\xff\xfe\x00", "not UTF-8"),
    (b'{"FullStudiesResponse": {"FullStudies": []}}', "FullStudiesResponse.FullStudies: the legacy v1 response holds no study"),
    (b'{"hello": "world"}', "not a ClinicalTrials.gov study record"),
])
def test_bad_input_names_the_file_and_exits_2(tmp_path, content, reason):
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    out = tmp_path / "draft.yaml"
    res = run("import", "ctgov", bad, "--out", out)
    assert res.exit_code == 2, res.output
    assert f"error: {bad}" in res.stderr and reason in res.stderr
    assert "Traceback" not in res.output and not out.exists()


def test_a_record_and_nct_or_neither_is_refused():
    res = run("import", "ctgov")
    assert res.exit_code == 1 and "give a record file or --nct" in res.stderr
    res = run("import", "ctgov", record_path("NCT02210780"), "--nct", "NCT02210780")
    assert res.exit_code == 1 and "one of them" in res.stderr
    res = run("import", "ctgov", "--nct", "NCT123")
    assert res.exit_code == 2 and "'NCT123' is not an NCT id" in res.stderr


# ---------------------------------------------------------------------------------------------
# --nct: a local server on the loopback interface serves the fixture files


class _Records(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        prefix = "/api/v2/studies/"
        name = self.path[len(prefix):] if self.path.startswith(prefix) else ""
        path = FIXTURES / f"{name}.json"
        if not name.startswith("NCT") or not path.exists():
            self.send_error(404)
            return
        body = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def api(monkeypatch):
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Records)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/api/v2"
    monkeypatch.setenv("LIVEMETA_CTGOV_API", url)
    yield url
    server.shutdown()
    server.server_close()


def test_nct_fetches_the_record_from_the_api(api, tmp_path):
    out, saved = tmp_path / "draft.yaml", tmp_path / "record.json"
    res = run("import", "ctgov", "--nct", "nct02552212", "--out", out, "--save-record", saved)
    assert res.exit_code == 0, res.output
    from livemeta.importers.ctgov import draft_from_record

    expected = draft_from_record(load_record("NCT02552212"), origin=f"{api}/studies/NCT02552212")
    assert out.read_text() == expected.text
    assert f"imported from {api}/studies/NCT02552212" in expected.text
    assert json.loads(saved.read_text()) == load_record("NCT02552212")


def test_nct_unknown_to_the_api(api):
    res = run("import", "ctgov", "--nct", "NCT09999999")
    assert res.exit_code == 1
    assert "NCT09999999 is not on ClinicalTrials.gov" in res.stderr and "404" in res.stderr


def test_nct_offline_says_so_and_how_to_go_on(monkeypatch, tmp_path):
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("LIVEMETA_CTGOV_API", f"http://127.0.0.1:{port}/api/v2")
    out = tmp_path / "draft.yaml"
    res = run("import", "ctgov", "--nct", "NCT02210780", "--out", out)
    assert res.exit_code == 1
    assert "cannot reach ClinicalTrials.gov" in res.stderr and "(offline?)" in res.stderr
    assert "hint: download the record as JSON" in res.stderr and "livemeta import ctgov FILE" in res.stderr
    assert "Traceback" not in res.output and not out.exists()


# ---------------------------------------------------------------------------------------------
# --compare


@pytest.fixture
def stored(tmp_path, monkeypatch):
    """A database holding the filled draft of NCT02210780 (revision 1)."""
    from livemeta.importers.ctgov import draft_from_record
    from livemeta.ingest import ingest_files

    text, _ = fill(draft_from_record(load_record("NCT02210780")).text, ROLES["NCT02210780"])
    study = tmp_path / "nct02210780.yaml"
    study.write_text(text)
    db = tmp_path / "compare.duckdb"
    ingest_files(db, [study], message="NCT02210780 from its registry draft", author="tester")
    return db, study


def _second_version(tmp_path) -> str:
    """A second version of NCT02210780, made by EDITING A COPY of the real record: a later update
    date, the trial terminated, one serious-event count changed (1 -> 2) and one new other event."""
    record = copy.deepcopy(load_record("NCT02210780"))
    status = record["protocolSection"]["statusModule"]
    status["lastUpdatePostDateStruct"]["date"] = "2021-01-15"
    status["overallStatus"] = "TERMINATED"
    ae = record["resultsSection"]["adverseEventsModule"]
    assert ae["seriousEvents"][0]["term"] == "Serum sickness-like reaction"
    assert ae["seriousEvents"][0]["stats"][1] == {"groupId": "EG001", "numAffected": 1, "numAtRisk": 97}
    ae["seriousEvents"][0]["stats"][1]["numAffected"] = 2
    ae["otherEvents"].append({"term": "Arthralgia", "organSystem": "Musculoskeletal and connective tissue disorders",
                              "stats": [{"groupId": "EG000", "numAffected": 2, "numAtRisk": 97},
                                        {"groupId": "EG001", "numAffected": 6, "numAtRisk": 97}]})
    path = tmp_path / "NCT02210780-v2.json"
    path.write_text(json.dumps(record))
    return str(path)


def test_compare_lists_field_changes_and_additions_and_writes_nothing(stored, tmp_path):
    db, _ = stored
    before = table_state(db)
    res = run("import", "ctgov", _second_version(tmp_path), "--compare", "--db", db)
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "NCT02210780 is trial 'nct02210780' in the database (current version from revision 1)." in out
    assert "The record ctgov-2021-01-15 (API v2 record, last updated 2021-01-15)" in out
    assert ("  trials nct02210780 status: 'completed' -> 'terminated'   "
            "[ctgov-2021-01-15 protocolSection.statusModule.overallStatus]") in out
    assert ("  adverse_events sae_serum_sickness_like_reaction_dupilumab_300_mg_qw subjects_affected: 1 -> 2   "
            "[ctgov-2021-01-15 resultsSection.adverseEventsModule.seriousEvents[0].stats[1]]") in out
    assert "changes (2):" in out
    assert "adds (3):" in out
    assert "  sources ctgov-2021-01-15" in out
    assert "  adverse_events oae_arthralgia_placebo_qw (resultsSection.adverseEventsModule.otherEvents[6].stats[0])" in out
    assert "only in the database (1; the record does not give them, a supersede must keep them): sources ctgov-2020-05-07" in out
    assert "Nothing was written." in out
    assert table_state(db) == before


def test_compare_the_same_record_finds_no_change(stored):
    db, _ = stored
    res = run("import", "ctgov", record_path("NCT02210780"), "--compare", "--db", db)
    assert res.exit_code == 0, res.output
    assert "no change: the record adds nothing and changes nothing the database holds." in res.stdout
    assert "unchanged: 26 rows" in res.stdout  # 1 trial, 1 source, 2 arms, 22 adverse events


def test_compare_matches_rows_curated_under_other_ids(tmp_path, monkeypatch):
    """A stored trial whose arms and adverse events have other ids (as a curator might write them)
    is matched by what the rows describe."""
    from livemeta.importers.ctgov import draft_from_record
    from livemeta.ingest import ingest_files

    text, _ = fill(draft_from_record(load_record("NCT02210780")).text, ROLES["NCT02210780"])
    text = text.replace("dupilumab_300_mg_qw", "dupilumab").replace("placebo_qw", "placebo")
    text = text.replace("  - id: sae_", "  - id: curated_sae_").replace("  - id: oae_", "  - id: curated_oae_")
    study = tmp_path / "curated.yaml"
    study.write_text(text)
    db = tmp_path / "curated.duckdb"
    ingest_files(db, [study], message="curated", author="tester")
    res = run("import", "ctgov", _second_version(tmp_path), "--compare", "--db", db)
    assert res.exit_code == 0, res.output
    assert ("adverse_events curated_sae_serum_sickness_like_reaction_dupilumab "
            "(record: sae_serum_sickness_like_reaction_dupilumab_300_mg_qw) subjects_affected: 1 -> 2") in res.stdout
    assert "changes (2):" in res.stdout and "adds (3):" in res.stdout


def test_compare_a_trial_not_in_the_database(stored):
    db, _ = stored
    res = run("import", "ctgov", record_path("NCT02552212"), "--compare", "--db", db)
    assert res.exit_code == 1
    assert "NCT02552212 is not the NCT id of any trial in the database" in res.stderr


def test_compare_without_a_database(tmp_path):
    res = run("import", "ctgov", record_path("NCT02552212"), "--compare", "--db", tmp_path / "none.duckdb")
    assert res.exit_code == 1 and "no database to compare with" in res.stderr
    assert not (tmp_path / "none.duckdb").exists()


# --- issue 21: an output into a folder that does not exist ------------------------------------


@pytest.mark.parametrize("option", ["--out", "--save-record"])
def test_an_output_into_a_missing_folder_is_refused_before_anything_is_written(tmp_path, option):
    target = tmp_path / "no" / "such" / "folder" / "draft.yaml"
    other = tmp_path / "draft.yaml" if option == "--save-record" else tmp_path / "record.json"
    pair = ["--out", other] if option == "--save-record" else ["--save-record", other]
    res = run("import", "ctgov", record_path("NCT02210780"), option, target, *pair)
    assert res.exit_code == 1, res.output
    assert f"error: cannot write {target}: the folder {target.parent} does not exist; nothing was written" in res.output
    assert f"mkdir -p {target.parent}" in res.output and option in res.output
    assert "Traceback" not in res.output and "FileNotFoundError" not in res.output
    assert not other.exists() and not (tmp_path / "no").exists()


def test_an_output_whose_folder_is_a_file_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = run("import", "ctgov", record_path("NCT02210780"), "--out", blocker / "draft.yaml")
    assert res.exit_code == 1 and f"the folder {blocker} is not a folder" in res.output, res.output
