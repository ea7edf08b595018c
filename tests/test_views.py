"""The SQL views and macros of queries/."""

from __future__ import annotations

import importlib.util

import duckdb
import pytest
import yaml
from scipy.stats import norm

from livemeta import api
from livemeta.ingest import ingest_files
from livemeta.db import views
from livemeta.paths import resource


def _z_table():
    spec = importlib.util.spec_from_file_location("z_table", resource("queries", "tools", "z_table.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_z_crit_macro_is_what_the_generator_writes():
    assert _z_table().macro() in resource("queries", "macros.sql").read_text()


@pytest.mark.parametrize("level", [50.1, 80, 90, 95, 97.5, 99, 99.9])
def test_z_crit_is_exact(level):
    con = duckdb.connect()
    con.execute(resource("queries", "macros.sql").read_text())
    assert con.execute("SELECT z_crit(?)", [level]).fetchone()[0] == norm.ppf(0.5 + level / 200)
    assert con.execute("SELECT z_crit(95.05), z_crit(100), z_crit(50)").fetchone() == (None, None, None)


def test_every_view_has_a_description():
    found = views()
    assert len(found) >= 17
    for v in found:
        assert len(v.description) > 20, v.name


def _study(trial_id: str, edit) -> str:
    d = yaml.safe_load(resource("ingest", "template.yaml").read_text())
    d["trial"]["id"], d["trial"]["nct_id"] = trial_id, None
    edit(d)
    return yaml.safe_dump(d, sort_keys=False)


def test_ae_view_pairs_the_same_grade_band(tmp_path):
    """Experimental arm reports >=3 and 3-4, control only 3-4: both arms must be compared at 3-4."""

    def edit(d):
        exp, ctl = d["adverse_events"]
        extra = dict(exp, id="g34_combo", grade_band="3-4", subjects_affected=50, percent=33.8,
                     raw_text="grade 3-4 TRAEs 50 (33.8%)")
        ctl.update(grade_band="3-4")
        d["adverse_events"].append(extra)

    path = tmp_path / "t.yaml"
    path.write_text(_study("band-test", edit))
    db = tmp_path / "v.duckdb"
    ingest_files(db, [path], message="t", author="t")
    rows = api.query(db, "select grade_band, ai, n1i, ci, n2i from analysis_rct_ae_g3").rows
    assert rows == [("3-4", 50, 148, 70, 145)]


def test_resistance_view_gives_one_row_per_trial_and_category(tmp_path):
    """A trial acquired by eligibility that also reports a primary-resistance subgroup contributes one
    row to each category: the reported subgroup for primary, the whole trial for acquired."""

    def edit(d):
        d["resistance_definitions"].append(dict(
            id="primary_sub", scope="subgroup", population="progressed within 4 months", category="primary",
            criterion_kind="prior_io_duration", threshold=4, threshold_unit="months",
            definition="progression within 4 months", source="paper", verified=True))
        d["outcomes"].append(dict(
            id="os_primary", endpoint="os", measure="HR", population="resistance", definition="primary_sub",
            experimental_arm="pd1_combo", control_arm="docetaxel", estimate=1.1, ci_low=0.8, ci_high=1.5,
            ci_level=95, source="paper", raw_text="HR 1.1 (0.8-1.5)", verified=True))

    path = tmp_path / "r.yaml"
    path.write_text(_study("res-test", edit))
    db = tmp_path / "r.duckdb"
    ingest_files(db, [path], message="t", author="t")
    rows = api.query(db, "select resistance_category, basis, estimate from analysis_os_by_resistance order by 1").rows
    assert rows == [("acquired", "eligibility", 0.85), ("primary", "reported subgroup", 1.1)]
