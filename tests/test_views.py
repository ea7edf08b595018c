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


def test_qnorm_macro_is_r_qnorm():
    """AS 241 in SQL (the algorithm of R's qnorm), against scipy to 1e-15 over (0, 1)."""
    import numpy as np
    from scipy.special import ndtri

    con = duckdb.connect()
    con.execute(resource("queries", "macros.sql").read_text())
    ps = np.concatenate([np.logspace(-300, -1, 120), np.linspace(0.02, 0.98, 97), 1 - np.logspace(-14, -1, 40)])
    got = np.array([con.execute("SELECT qnorm(?)", [float(p)]).fetchone()[0] for p in ps])
    assert np.max(np.abs(got - ndtri(ps)) / np.maximum(1, np.abs(ndtri(ps)))) < 1e-15
    # R 4.2.2: print(qnorm(0.975), digits = 17) gives 1.9599639845400536 (scipy's ndtri: ...54)
    assert con.execute("SELECT qnorm(0), qnorm(1), qnorm(NULL), qnorm(0.975)").fetchone() == (
        None, None, None, 1.9599639845400536)


# every way a trial may report an HR, in the view and in livemeta.pooling.hazard
_REPORTS = {
    "ci": dict(estimate=0.85, ci_low=0.70, ci_high=1.03, ci_level=95, p_value=0.10, p_sided="two"),
    "oe_v": dict(o_minus_e=-9.1, oe_variance=48.2),
    "p_value": dict(estimate=0.78, p_value=0.012, p_sided="two"),
    "p_value_one_sided": dict(estimate=0.69, p_value=0.05, p_sided="one"),
    "logrank_chisq": dict(estimate=0.81, logrank_chisq=4.41),
    "p_events": dict(p_value=0.03, p_sided="two", experimental_events=61, experimental_n=150,
                     control_events=80, control_n=150, hr_direction="below_1"),
    "p_events_total": dict(p_value=0.2, p_sided="one", total_events=240, allocation_ratio=2.0,
                           hr_direction="below_1"),
    "logrank_events": dict(logrank_chisq=2.6, total_events=130, hr_direction="above_1"),
}


def _expected(name):
    from livemeta.pooling import hazard
    from livemeta.pooling.effects import log_hr_from_ci

    r = _REPORTS[name]
    if name == "ci":
        return "ci", log_hr_from_ci(r["estimate"], r["ci_low"], r["ci_high"], level=0.95)
    if name == "oe_v":
        return "oe_v", hazard.log_hr_from_oe(r["o_minus_e"], r["oe_variance"])
    if name.startswith("p_value"):
        return "p_value", hazard.log_hr_from_p(r["estimate"], r["p_value"], sided=1 if r["p_sided"] == "one" else 2)
    if name == "logrank_chisq":
        return "logrank_chisq", hazard.log_hr_from_logrank(r["logrank_chisq"], hr=r["estimate"])
    if name == "p_events":
        return "p_events", hazard.log_hr_from_p_events(
            r["p_value"], hr_above_1=False, events_e=r["experimental_events"], events_c=r["control_events"],
            n_e=r["experimental_n"], n_c=r["control_n"])
    if name == "p_events_total":
        return "p_events", hazard.log_hr_from_p_events(r["p_value"], hr_above_1=False, events=r["total_events"],
                                                       ratio=r["allocation_ratio"], sided=1)
    return "logrank_events", hazard.log_hr_from_logrank(r["logrank_chisq"], hr_above_1=True, events=r["total_events"])


def test_hr_view_derives_yi_vi_from_what_trials_report(tmp_path):
    """analysis_rct_hr against livemeta.pooling.hazard (itself pinned to calcTE): the SQL and the
    Python derivations agree to 1e-14 for every kind of report, and the method is recorded."""

    def edit(d):
        base = d["outcomes"][0]
        d["outcomes"] = [dict(id="os", endpoint="os", measure="HR", population="overall",
                              experimental_arm="pd1_combo", control_arm="docetaxel", source="paper",
                              raw_text="as printed", verified=True, **_REPORTS["ci"])]
        for name, fields in _REPORTS.items():
            if name != "ci":
                d["outcomes"].append(dict(id=f"os_{name}", endpoint="os", measure="HR", population="subgroup",
                                          subgroup=name, experimental_arm=base["experimental_arm"],
                                          control_arm="docetaxel", source="paper", raw_text="as printed",
                                          verified=True, **fields))

    path = tmp_path / "h.yaml"
    path.write_text(_study("hr-report-test", edit))
    db = tmp_path / "h.duckdb"
    ingest_files(db, [path], message="t", author="t")
    rows = api.query(db, "select coalesce(subgroup, 'ci'), derivation, yi, vi from analysis_rct_hr").rows
    assert len(rows) == len(_REPORTS)
    for name, derivation, yi, vi in rows:
        want_derivation, (want_yi, want_vi) = _expected(name)
        assert derivation == want_derivation, name
        assert yi == pytest.approx(float(want_yi[0]), rel=1e-14, abs=1e-15), name
        assert vi == pytest.approx(float(want_vi[0]), rel=1e-14), name


def test_s1800a_three_readings(bundled_db):
    """Lung-MAP S1800A's OS: the CI at its printed 95%, at 80%, and the variance from one-sided P = .05."""
    import math

    from livemeta.pooling import hazard
    from livemeta.pooling.effects import log_hr_from_ci

    row = api.query(bundled_db, "select derivation, vi, vi_alternative, vi_p_value, derivation_p_value "
                                "from analysis_rct_os where trial_id = 'lung-map-s1800a'").rows[0]
    assert row[0] == "ci" and row[4] == "p_value"
    assert row[1] == pytest.approx(log_hr_from_ci(0.69, 0.51, 0.92, level=0.95).vi[0], rel=1e-14)
    assert row[2] == pytest.approx(log_hr_from_ci(0.69, 0.51, 0.92, level=0.80).vi[0], rel=1e-14)
    assert row[3] == pytest.approx(hazard.log_hr_from_p(0.69, 0.05, sided=1).vi[0], rel=1e-14)
    assert math.sqrt(row[3]) == pytest.approx(-math.log(0.69) / 1.6448536269514722, rel=1e-14)
    # no other trial has a disputed level: the other readings equal the default for them
    others = api.query(bundled_db, "select count(*) from analysis_rct_hr where trial_id <> 'lung-map-s1800a' "
                                   "and (vi_alternative <> vi or vi_p_value <> vi)").rows[0][0]
    assert others == 0
