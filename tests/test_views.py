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


def _macros() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(resource("queries", "macros.sql").read_text())
    return con


def test_z_crit_is_the_one_normal_quantile_of_each_layer():
    """The critical value of a CI level: in SQL -qnorm((100 - level) / 200) (AS 241, R's qnorm), in
    Python livemeta.pooling._dist.z_crit / norm_isf (scipy's ndtri); at the same alpha the two agree
    to 1e-15 at every level validation accepts (percent to one decimal), and R's value at 95% is
    SQL's to the last bit. (A level as a fraction, 0.999, gives alpha = 1 - 0.999 with its own
    rounding: the engine's z differs from the view's there by 5e-15, as metafor's does between
    level = 99.9 and level = 0.999.)"""
    import numpy as np

    from livemeta.pooling._dist import norm_isf, z_crit

    con = _macros()
    levels = [t / 10 for t in range(501, 1000)]
    sql = np.array([r[0] for r in con.execute("SELECT z_crit(unnest(?))", [levels]).fetchall()])
    py = norm_isf((100 - np.array(levels)) / 200)
    assert np.max(np.abs(sql - py) / py) < 1e-15
    assert np.max(np.abs(sql - z_crit(np.array(levels) / 100)) / py) < 1e-14
    # R 4.2.2: print(qnorm(0.05 / 2, lower.tail = FALSE), digits = 17) gives 1.9599639845400538
    # (metafor's crit at level 95); scipy's ndtri one ulp away
    assert con.execute("SELECT z_crit(95)").fetchone()[0] == 1.9599639845400538
    assert abs(z_crit(0.95) - 1.9599639845400538) < 5e-16
    assert con.execute("SELECT z_crit(95.05), z_crit(100), z_crit(50), z_crit(NULL)").fetchone() == (None,) * 4


def test_vi_from_ci_is_log_hr_from_ci():
    """The variance of a log ratio from its CI, once per layer: the SQL macro and the array function."""
    from livemeta.pooling.effects import log_hr_from_ci

    con = _macros()
    for lo, hi, level in ((0.70, 1.03, 95), (0.51, 0.92, 95), (0.51, 0.92, 80), (0.2, 3.5, 99.9), (0.9, 0.91, 50.1)):
        got = con.execute("SELECT vi_from_ci(?, ?, ?)", [lo, hi, level]).fetchone()[0]
        want = float(log_hr_from_ci(1.0, lo, hi, level=level / 100).vi[0])
        assert abs(got - want) <= 2e-14 * want, (lo, hi, level)  # 1e-14 on z (percent vs fraction), twice on vi
    assert con.execute("SELECT vi_from_ci(0, 1, 95), vi_from_ci(1, 1, 95), vi_from_ci(0.5, 0.9, 95.05)").fetchone() == (None,) * 3


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
            criterion_kind="prior_io_duration", threshold=4, threshold_comparator="<", threshold_unit="months",
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

    con = _macros()
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


def test_each_analysis_row_carries_its_own_endpoints_risk_of_bias(tmp_path):
    """One trial judged for OS (some concerns), ORR (high) and safety (low): every analysis view keeps
    one row per outcome or adverse-event pair, with its endpoint's judgement (issue 20: a join on the
    trial alone gave analysis_rct_os two rows for it, and `pool os` k 2 instead of 1)."""
    from copy import deepcopy

    def edit(d):
        os_rob = d["risk_of_bias"][0]
        orr = deepcopy(os_rob) | {"id": "orr-consensus", "endpoint": "orr", "result": "orr",
                                  "overall": {"judgement": "high", "support": "Open-label assessment of response"}}
        orr["domains"]["D4"] = {"judgement": "high", "support": "Investigator-assessed response, open label"}
        safety = deepcopy(os_rob) | {"id": "safety-consensus", "endpoint": "safety", "result": None,
                                     "overall": {"judgement": "low", "support": "Low in every domain"}}
        safety["domains"]["D2"] = {"judgement": "low", "support": "Safety analysis set as planned"}
        d["risk_of_bias"] += [orr, safety]

    path = tmp_path / "t.yaml"
    path.write_text(_study("rob-endpoints", edit))
    db = tmp_path / "r.duckdb"
    ingest_files(db, [path], message="t", author="t")
    q = lambda sql: api.query(db, sql).rows  # noqa: E731
    assert q("select endpoint, outcome_id, ae_id, rob_overall from analysis_risk_of_bias order by 1, 2, 3") == [
        ("orr", "orr", None, "high"), ("os", "os", None, "some_concerns"),
        ("safety", None, "g3_trae_combo", "low"), ("safety", None, "g3_trae_doc", "low")]
    assert q("select trial_id, rob_overall from analysis_rct_os") == [("rob-endpoints", "some_concerns")]
    assert q("select trial_id, rob_overall from analysis_rct_hr") == [("rob-endpoints", "some_concerns")]
    assert q("select trial_id, rob_overall from analysis_rct_orr") == [("rob-endpoints", "high")]
    assert q("select trial_id, rob_overall from analysis_rct_ae_g3") == [("rob-endpoints", "low")]
    run = api.pool(db, ["os", "orr", "ae_g3"])
    assert [(r.spec.id, r.k) for r in run.results] == [("os", 1), ("orr", 1), ("ae_g3", 1)]


def test_analysis_views_read_risk_of_bias_through_one_view():
    """The join of a judgement to the rows it applies to is written once (analysis_risk_of_bias); the
    analysis views read that view, never risk_of_bias_in_force itself."""
    texts = {v.name: v.sql for v in views()}
    readers = sorted(n for n, t in texts.items() if "risk_of_bias_in_force" in t and n != "risk_of_bias_in_force")
    assert readers == ["analysis_risk_of_bias"]
    assert sorted(n for n, t in texts.items() if "analysis_risk_of_bias" in t and n != "analysis_risk_of_bias") == [
        "analysis_rct_ae_g3", "analysis_rct_hr", "analysis_rct_orr", "analysis_single_arm_orr"]
