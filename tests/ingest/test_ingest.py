"""Ingest end to end: the template, all-or-nothing batches, supersede with history, dry runs,
1,000 files in one batch, the bundled study files, and the CI-symmetry rule on real numbers."""

from __future__ import annotations

from pathlib import Path

import datetime as dt
import hashlib
import json

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from livemeta.db import connect, set_as_of
from livemeta.errors import LivemetaError, ValidationFailed
from livemeta.ingest import ingest_files, load_study, validate_files
from livemeta.ingest.frames import TABLES, _ci_symmetry, build_batch, columns, printed_step
from livemeta.ingest.parse import parse_file
from livemeta.ingest.synthetic import write_studies
from livemeta.paths import resource

from tests.conftest import REPO

from .conftest import BASE, HERE, TEMPLATE, table_state


def _with(tmp_path, name, text_or_dict):
    path = tmp_path / name
    if isinstance(text_or_dict, dict):
        path.write_text(yaml.safe_dump(text_or_dict, sort_keys=False))
    else:
        path.write_text(text_or_dict)
    return path


def test_template_validates():
    report = validate_files([TEMPLATE])
    assert report.ok and report.trials == ["example-01"]
    assert report.rows == {"trials": 1, "sources": 1, "arms": 2, "resistance_definitions": 1, "outcomes": 2, "adverse_events": 2,
                           "risk_of_bias": 1}


def test_template_ingests(db_path):
    report = ingest_files(db_path, [TEMPLATE], message="add the template", author="tester")
    assert report.revision == 1 and report.added == ["example-01"] and report.superseded == []
    assert "revision 1" in report.summary() and "example-01" in report.summary()
    with connect(db_path, read_only=True) as con:
        counts = {t: con.execute(f"SELECT count(*) FROM history.{t}").fetchone()[0] for t in TABLES}
        assert counts == report.rows
        trial = con.execute(
            "SELECT trial_id, nct_id, phase, randomised_n, first_published, first_publication_date, "
            "first_publication_precision, valid_from, valid_to FROM history.trials"
        ).fetchone()
        assert trial == ("example-01", "NCT00000000", "3", 300, "2024-06", dt.date(2024, 6, 1), "month", 1, None)
        arms = con.execute("SELECT arm_id, partners, control_type, n_safety FROM history.arms ORDER BY arm_id").fetchall()
        assert arms == [("docetaxel", [], "docetaxel", 145), ("pd1_combo", ["drug X"], None, 148)]
        os_row = con.execute(
            "SELECT estimate, ci_low, ci_high, ci_level, experimental_arm_id, control_arm_id, definition_id, "
            "data_cutoff, source_id, experimental_events FROM history.outcomes WHERE outcome_id = 'os'"
        ).fetchone()
        assert os_row == (0.85, 0.70, 1.03, 95.0, "pd1_combo", "docetaxel", None, dt.date(2023, 10, 1), "paper", None)
        rev = con.execute("SELECT author, message, kind FROM history.revisions").fetchone()
        assert rev == ("tester", "add the template", "ingest")
        files = con.execute("SELECT path, sha256, trial_id, action FROM history.revision_files").fetchall()
        assert files == [(str(TEMPLATE), hashlib.sha256(TEMPLATE.read_bytes()).hexdigest(), "example-01", "added")]
        # row ids come from the shared sequence and are unique across tables
        ids = [r[0] for t in TABLES for r in con.execute(f"SELECT row_id FROM history.{t}").fetchall()]
        assert len(ids) == len(set(ids)) == sum(report.rows.values())


def test_frames_carry_exactly_the_table_columns(empty_db):
    with connect(empty_db, read_only=True) as con:
        for table in TABLES:
            db_cols = [r[0] for r in con.execute(f"DESCRIBE history.{table}").fetchall()]
            assert [c for c in db_cols if c not in ("row_id", "valid_from", "valid_to")] == columns(table)


def test_json_and_yaml_ingest_the_same_rows(tmp_path):
    data = load_study(TEMPLATE)
    as_json = _with(tmp_path, "template.json", json.dumps(data))
    a = build_batch([parse_file(TEMPLATE)])
    b = build_batch([parse_file(as_json)])
    for table in TABLES:
        pd.testing.assert_frame_equal(a.db_frame(table), b.db_frame(table))


def test_a_bad_file_fails_the_whole_batch(db_path, tmp_path):
    good = _with(tmp_path, "good.yaml", TEMPLATE.read_text())
    bad = _with(tmp_path, "bad.yaml", TEMPLATE.read_text().replace("example-01", "bad-02").replace("NCT00000000", "NCT00000002").replace("ci_high: 1.03", "ci_high: 0.80"))
    with pytest.raises(ValidationFailed) as info:
        ingest_files(db_path, [good, bad], message="m", author="tester")
    assert {p.file for p in info.value.problems} == {str(bad)}
    assert not db_path.exists()  # refused before the database was even opened
    ingest_files(db_path, [BASE], message="seed", author="tester")
    before = table_state(db_path)
    with pytest.raises(ValidationFailed):
        ingest_files(db_path, [good, bad], message="m", author="tester")
    assert table_state(db_path) == before


def test_a_failing_write_rolls_back_everything(db_path, monkeypatch):
    ingest_files(db_path, [BASE], message="seed", author="tester")
    before = table_state(db_path)
    from livemeta.ingest import write

    real_sql = write.sql

    def broken(name, **parts):
        if name == "insert_rows" and parts.get("table") == "adverse_events":
            return "INSERT INTO history.no_such_table SELECT 1"
        return real_sql(name, **parts)

    monkeypatch.setattr(write, "sql", broken)
    # the real cause, not "Current transaction is aborted" from cleaning up inside the failed transaction
    with pytest.raises(duckdb.CatalogException, match="no_such_table"):
        ingest_files(db_path, [TEMPLATE], message="m", author="tester")
    assert table_state(db_path) == before


def test_a_failing_write_leaves_the_callers_connection_usable(db_path, monkeypatch):
    """ingest into the caller's own open connection: after a failed write the connection is not
    left inside the aborted transaction (ROLLBACK), and the next ingest on it works."""
    ingest_files(db_path, [BASE], message="seed", author="tester")
    from livemeta.ingest import write

    real_sql = write.sql
    monkeypatch.setattr(write, "sql", lambda name, **parts: "INSERT INTO history.no_such_table SELECT 1"
                        if name == "insert_rows" and parts.get("table") == "outcomes" else real_sql(name, **parts))
    with connect(db_path) as con:
        before = con.execute("SELECT count(*), max(revision_id) FROM history.revisions").fetchone()
        with pytest.raises(duckdb.CatalogException, match="no_such_table"):
            ingest_files(con, [TEMPLATE], message="m", author="tester")
        assert con.execute("SELECT count(*), max(revision_id) FROM history.revisions").fetchone() == before == (1, 1)
        assert con.execute("SELECT count(*) FROM history.trials").fetchone() == (1,)
        monkeypatch.setattr(write, "sql", real_sql)
        assert ingest_files(con, [TEMPLATE], message="m", author="tester").revision == 2


def test_supersede_keeps_history(db_path, tmp_path):
    ingest_files(db_path, [TEMPLATE], message="v1", author="tester")
    study = load_study(TEMPLATE)
    study["outcomes"][0].update(estimate=0.80, ci_low=0.62, ci_high=1.03, data_cutoff="2024-10-01",
                                raw_text="HR 0.80 (95% CI 0.62-1.03)")
    study["adverse_events"].pop()  # the new version drops a row
    v2 = _with(tmp_path, "example-01.yaml", study)
    report = ingest_files(db_path, [v2], message="new data cut", author="tester", supersede=True)
    assert report.revision == 2 and report.superseded == ["example-01"] and report.added == []
    with connect(db_path, read_only=True) as con:
        rows = con.execute(
            "SELECT estimate, valid_from, valid_to FROM history.outcomes WHERE outcome_id = 'os' ORDER BY valid_from"
        ).fetchall()
        assert rows == [(0.85, 1, 2), (0.80, 2, None)]
        for table in TABLES:  # every old row closed at revision 2, every new one open from 2
            old = con.execute(f"SELECT count(*) FROM history.{table} WHERE valid_from = 1 AND valid_to = 2").fetchone()[0]
            new = con.execute(f"SELECT count(*) FROM history.{table} WHERE valid_from = 2 AND valid_to IS NULL").fetchone()[0]
            assert old == report.rows[table] + (1 if table == "adverse_events" else 0)
            assert new == report.rows[table]
        assert con.execute("SELECT estimate FROM outcomes WHERE outcome_id = 'os'").fetchall() == [(0.80,)]
        assert con.execute("SELECT count(*) FROM adverse_events").fetchone()[0] == 1
        set_as_of(con, 1)
        assert con.execute("SELECT estimate FROM outcomes WHERE outcome_id = 'os'").fetchall() == [(0.85,)]
        assert con.execute("SELECT count(*) FROM adverse_events").fetchone()[0] == 2
        assert con.execute("SELECT action FROM history.revision_files WHERE revision_id = 2").fetchall() == [("superseded",)]


def test_dry_run_writes_nothing(db_path, tmp_path):
    # without a database: reports, creates nothing
    report = ingest_files(db_path, [TEMPLATE], message="m", author="tester", dry_run=True)
    assert report.revision is None and report.added == ["example-01"] and "Nothing was written" in report.summary()
    assert not db_path.exists()
    # with one: checks against it, changes nothing
    ingest_files(db_path, [BASE], message="seed", author="tester")
    before = table_state(db_path)
    report = ingest_files(db_path, [TEMPLATE], message="m", author="tester", dry_run=True)
    assert report.added == ["example-01"] and report.rows["outcomes"] == 2
    with pytest.raises(ValidationFailed, match="already in the database"):
        ingest_files(db_path, [BASE], message="m", author="tester", dry_run=True)
    changed = _with(tmp_path, "base.yaml", BASE.read_text().replace("percent: 40.5", "percent: 40.54"))
    report = ingest_files(db_path, [changed], message="m", author="tester", dry_run=True, supersede=True)
    assert report.superseded == ["bad-01"]
    assert table_state(db_path) == before


def test_ingest_into_an_open_connection(empty_db):
    with connect(empty_db) as con:
        report = ingest_files(con, [TEMPLATE], message="m", author="tester")
        assert con.execute("SELECT count(*) FROM history.trials").fetchone()[0] == 1
    assert report.revision == 1


def test_validate_against_the_database(db_path):
    ingest_files(db_path, [TEMPLATE], message="m", author="tester")
    with connect(db_path, read_only=True) as con:
        with pytest.raises(ValidationFailed, match="already in the database"):
            validate_files([TEMPLATE], con=con)
        report = validate_files([BASE], con=con)
        assert report.added == ["bad-01"]


def test_a_revision_needs_message_and_author(db_path):
    with pytest.raises(LivemetaError, match="message"):
        ingest_files(db_path, [TEMPLATE], message="  ", author="tester")
    with pytest.raises(LivemetaError, match="no study files"):
        ingest_files(db_path, [], message="m", author="tester")


def test_cli_reports_bad_input_without_traceback(project):
    import shutil

    from livemeta.cli import main
    from livemeta.gitrepo import Git

    runner = CliRunner()
    bad = project.studies / "events_over_n.yaml"
    shutil.copyfile(HERE / "bad" / "events_over_n.yaml", bad)
    head = Git(project.root).head()
    result = runner.invoke(main, ["ingest", str(bad), "-m", "x"])
    assert result.exit_code == 2
    out = result.output + (result.stderr if hasattr(result, "stderr") else "")
    assert f"{bad}: outcomes[1].experimental_events: experimental_events 160 is more than" in out
    assert "Traceback" not in out
    assert Git(project.root).head() == head  # nothing committed
    result = runner.invoke(main, ["validate", str(TEMPLATE)])
    assert result.exit_code == 0 and "1 file valid" in result.output


# --- the bundled study files and real numbers -------------------------------------------------


def test_bundled_study_files_validate():
    files = sorted(p for p in REPO.joinpath("data", "studies").glob("*") if p.suffix in (".yaml", ".yml", ".json"))
    assert len(files) == 34
    report = validate_files(files)
    assert report.ok and len(report.trials) == len(files)


# (estimate, ci_low, ci_high) as printed for the RCTs of the bundled evidence (rct_outcomes.csv)
REAL_HRS = [
    ("0.88", "0.68", "1.16"), ("0.74", "0.59", "0.92"), ("0.98", "0.78", "1.23"), ("0.89", "0.70", "1.12"),
    ("0.86", "0.70", "1.05"), ("1.08", "0.89", "1.32"), ("0.69", "0.51", "0.92"), ("0.99", "0.81", "1.22"),
    ("0.82", "0.56", "1.22"), ("1.09", "0.85", "1.39"), ("1.02", "0.75", "1.39"), ("0.82", "0.62", "1.07"),
    ("0.76", "0.50", "1.15"), ("0.77", "0.53", "1.13"), ("1.40", "0.96", "2.02"), ("0.82", "0.47", "1.44"),
    ("0.34", "0.18", "0.63"), ("0.85", "0.70", "1.03"),  # the last: the template
]


def _excess(triples, measure="HR"):
    o = pd.DataFrame({
        "measure": measure,
        "estimate": [float(t[0]) for t in triples],
        "ci_low": [float(t[1]) for t in triples],
        "ci_high": [float(t[2]) for t in triples],
    })
    steps = np.array([[printed_step(float(x), x) for x in t] for t in triples])
    _ci_symmetry(o, steps)
    return o["_ci_excess"].to_numpy()


def test_real_cis_are_symmetric_within_rounding():
    assert (_excess(REAL_HRS) <= 0).all()


def test_every_rounding_of_a_symmetric_ci_passes():
    """Exact log-symmetric CIs, each bound and the estimate rounded to 2 decimals, must pass."""
    rng = np.random.default_rng(7)
    triples = []
    for _ in range(5000):
        est, se = float(np.exp(rng.uniform(-1.5, 1.0))), float(rng.uniform(0.05, 0.6))
        lo, hi = est * np.exp(-1.959964 * se), est * np.exp(1.959964 * se)
        if round(lo, 2) > 0:
            triples.append((f"{est:.2f}", f"{lo:.2f}", f"{hi:.2f}"))
    assert (_excess(triples) <= 0).all()


@pytest.mark.parametrize("triple", [("0.85", "0.70", "1.30"), ("0.85", "0.60", "1.03"), ("0.50", "0.30", "0.90"), ("1.40", "0.90", "2.02")])
def test_asymmetric_cis_fail(triple):
    assert _excess([triple])[0] > 0


def test_printed_precision():
    assert printed_step(0.7, "0.70") == pytest.approx(0.01)
    assert printed_step(0.7) == pytest.approx(0.1)  # text unknown: lenient
    assert printed_step(3) == 1.0
    assert printed_step(0.01, "1.0e-2") == pytest.approx(0.001)


def test_yaml_keeps_dates_and_odd_numbers_as_text(tmp_path):
    path = _with(tmp_path, "x.yaml", "livemeta_study: 1\nd: 2024-01-02\no: 012\ns: 1:20\nh: 0x1f\nf: 1.50\nn: -3\n")
    study = parse_file(path)
    assert study.data == {"livemeta_study": 1, "d": "2024-01-02", "o": "012", "s": "1:20", "h": "0x1f", "f": 1.5, "n": -3}
    assert study.numbers == {"f": "1.50"} and study.line_of("s") == 4


# --- a batch of 1,000 -------------------------------------------------------------------------


@pytest.mark.slow
def test_thousand_files_in_one_batch(db_path, tmp_path):
    paths = write_studies(tmp_path / "studies", 1000)  # (ingest_files validates the batch first, as validate_files does)
    result = ingest_files(db_path, paths, message="1,000 synthetic trials", author="tester")
    assert result.revision == 1 and len(result.added) == 1000
    with connect(db_path, read_only=True) as con:
        counts = {t: con.execute(f"SELECT count(*) FROM history.{t}").fetchone()[0] for t in TABLES}
        assert counts == {"trials": 1000, "sources": 1000, "arms": 2000, "resistance_definitions": 1000,
                          "outcomes": 2000, "adverse_events": 2000, "risk_of_bias": 1000}
        assert con.execute("SELECT count(*) FROM history.revision_files WHERE revision_id = 1").fetchone()[0] == 1000
        assert con.execute("SELECT count(DISTINCT nct_id) FROM history.trials").fetchone()[0] == 1000
        row = con.execute(
            "SELECT t.randomised_n, a.n_randomised, o.estimate, o.ci_low, o.ci_high FROM history.trials t "
            "JOIN history.arms a USING (trial_id) JOIN history.outcomes o USING (trial_id) "
            "WHERE t.trial_id = 'synthetic-00123' AND a.role = 'experimental' AND o.outcome_id = 'os'"
        ).fetchone()
    from livemeta.ingest.synthetic import study

    expected = study(123)
    assert row == (
        expected["trial"]["randomised_n"],
        expected["arms"][0]["n_randomised"],
        expected["outcomes"][0]["estimate"],
        expected["outcomes"][0]["ci_low"],
        expected["outcomes"][0]["ci_high"],
    )


def test_template_and_examples_validate_and_ingest_together(project):
    """ingest/template.yaml and every file of ingest/examples/ (YAML and JSON) are valid study files."""
    import shutil

    from livemeta import api

    files = [resource("ingest", "template.yaml"), *sorted(resource("ingest", "examples").iterdir())]
    assert {p.suffix for p in files} == {".yaml", ".json"}
    report = api.validate(files)
    assert sorted(report.trials) == ["example-01", "example-json", "example-single-arm"]
    copies = [Path(shutil.copy(f, project.studies / f.name)) for f in files]
    result = api.ingest(copies, message="examples")
    (applied,) = result.applied
    assert (applied.revision, applied.status) == (2, "applied")
    assert sorted(t for t, a in applied.actions.items() if a == "added") == ["example-01", "example-json", "example-single-arm"]


def test_overall_outcomes_share_one_comparison():
    """A third arm against the shared control is a subgroup, never a second 'overall' comparison;
    single-arm trials report one overall result per arm."""
    from livemeta.ingest.structure import _one_result_per_comparison

    def o(exp, ctl, population="overall", endpoint="pfs"):
        return dict(endpoint=endpoint, measure="HR", population=population, experimental_arm=exp, control_arm=ctl,
                    subgroup=None if population == "overall" else "V/P alone")

    assert _one_result_per_comparison([o("vp_doc", "doc"), o("vp_doc", "doc", endpoint="os")]) == []
    found = _one_result_per_comparison([o("vp_doc", "doc"), o("vp", "doc")])
    assert [p for p, _ in found] == ["outcomes[1].experimental_arm"] and "main comparison, vp_doc vs doc" in found[0][1]
    assert _one_result_per_comparison([o("vp_doc", "doc"), o("vp", "doc", population="subgroup")]) == []
    assert _one_result_per_comparison([o("arm_a", None), o("arm_b", None)]) == []
