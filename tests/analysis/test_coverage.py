"""Nothing valid is silently ignored: every outcome and adverse-event row is read by an analysis
or reported by validate and ingest with the reason and the fix."""

from __future__ import annotations

import yaml
from click.testing import CliRunner

from livemeta import api
from livemeta.cli import main
from livemeta.ingest import ingest_files
from livemeta.ingest.synthetic import study


def _write(path, d):
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    return path


def test_an_orr_row_with_measure_or_and_counts_is_pooled(tmp_path):
    """The reasonable form is accepted: the counts are pooled whatever measure was printed beside them."""
    d = study(1)
    orr = next(o for o in d["outcomes"] if o["endpoint"] == "orr")
    orr["measure"] = "OR"
    f = _write(tmp_path / "or.yaml", d)
    report = api.validate([f])
    assert [u for u in report.unused if "outcomes" in u.path and u.path.endswith(f"[{d['outcomes'].index(orr)}]")] == []
    db = tmp_path / "o.duckdb"
    ingest_files(db, [f], message="t", author="t")
    run = api.pool(db, ["orr"])
    assert run.results[0].k == 1 and run.results[0].trials == ["synthetic-00001"]


def test_validate_reports_each_unused_row_with_reason_and_fix(tmp_path):
    d = study(2)
    d["outcomes"].append(dict(d["outcomes"][0], id="dcr", endpoint="dcr", measure="proportion", estimate=None,
                              ci_low=None, ci_high=None, ci_level=None, raw_text="DCR 60%"))
    d["outcomes"].append(dict(d["outcomes"][0], id="pfs_sq", endpoint="pfs", population="subgroup", subgroup="squamous"))
    orr = next(o for o in d["outcomes"] if o["endpoint"] == "orr")
    orr["control_events"] = None
    f = _write(tmp_path / "s.yaml", d)
    report = api.validate([f])
    got = {u.path: (u.reason, u.fix) for u in report.unused}
    n = len(d["outcomes"])
    assert got[f"outcomes[{n - 2}]"] == ("no analysis in force pools DCR", "add one to the analyses file, or keep the row as a record")
    assert got[f"outcomes[{n - 1}]"][0] == "no analysis pools named subgroups ('squamous')"
    assert got[f"outcomes[{d['outcomes'].index(orr)}]"][0] == "the ORR analysis pools responders of n in both arms; missing: control_events"
    assert "outcomes[0]" not in got  # the OS hazard ratio is pooled
    out = CliRunner().invoke(main, ["validate", str(f), "--db", str(tmp_path / "none.duckdb")])
    assert out.exit_code == 0
    assert f"note: {f}: outcomes[{n - 2}]: read by no analysis: no analysis in force pools DCR" in out.output


def test_ingest_reports_unused_rows(project):
    d = study(3)
    d["trial"]["inclusion"] = "candidate"
    f = _write(project.studies / "c.yaml", d)
    out = CliRunner().invoke(main, ["ingest", str(f), "-m", "add a candidate"])
    assert out.exit_code == 0, out.output
    assert "read by no analysis: its trial's inclusion is 'candidate' and the analyses pool included trials" in out.output
