"""Validation warns, never refuses, of a hazard ratio whose printed numbers cannot all be right (issue
23 item 2): Lung-MAP S1800A's "95% CI 0.51-0.92" with one-sided P = .05 implies about 177 deaths in a
136-patient trial; read at 80% it is plausible."""

from __future__ import annotations

import shutil

import yaml
from click.testing import CliRunner

from livemeta import api
from livemeta.cli import main
from tests.conftest import REPO

S1800A = REPO / "data" / "studies" / "lung-map-s1800a.yaml"


def test_validate_warns_of_s1800a_and_still_passes(tmp_path):
    out = CliRunner().invoke(main, ["validate", str(S1800A), "--db", str(tmp_path / "none.duckdb")])
    assert out.exit_code == 0, out.output
    line = next(line for line in out.output.splitlines() if "implausible hazard ratio" in line)
    assert line.startswith("warning: ") and "lung-map-s1800a.yaml: outcomes[0]: implausible hazard ratio: its 95% " \
        "CI 0.51–0.92 implies at least 167 events" in line
    assert "read at its alternative level 80%, the interval is plausible" in out.output


def test_a_plausible_file_gets_no_warning_and_a_misprint_is_caught(tmp_path):
    doc = yaml.safe_load(S1800A.read_text())
    os_ = doc["outcomes"][0]
    os_.update(ci_level=80)  # read at the level that fits its P: plausible
    os_.pop("ci_level_alternative")
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    report = api.validate([path], db=tmp_path / "none.duckdb")
    assert report.warnings == []
    os_.update(ci_level=95, p_value=0.5, p_sided="two")  # a P the interval cannot give
    doc["trial"]["randomised_n"] = 400
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    report = api.validate([path], db=tmp_path / "none.duckdb")
    assert [w.path for w in report.warnings] == ["outcomes[0]"]
    assert "implies a two-sided P of 0.0099–0.018, not the printed 0.5" in report.warnings[0].reason
    assert "events" not in report.warnings[0].reason  # 400 randomised: enough for ~177 events
