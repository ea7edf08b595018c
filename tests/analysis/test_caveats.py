"""What every output shows beside an estimate (issue 23 items 2 and 8): implausible inputs, models on
too few studies, and declared sensitivity analyses that reach another conclusion, read from the
analysis result (livemeta.analysis.caveats) on the bundled evidence."""

from __future__ import annotations

import json

import pytest

from livemeta.analysis import load_specs, run_analysis
from livemeta.analysis.caveats import sensitivity_changes
from livemeta.analysis.present import to_json, to_table
from livemeta.db import connect, resolve_revision


@pytest.fixture(scope="module")
def results(bundled_db):
    with connect(bundled_db, read_only=True) as con:
        rev = resolve_revision(con, None)
        views: dict = {}
        return {s.id: run_analysis(con, s, rev, views) for s in load_specs()}


def test_s1800a_read_at_95_percent_is_flagged_wherever_it_is_pooled(results):
    flagged = {a for a, r in results.items() if r.input_flags}
    # every analysis that pools S1800A's interval as printed, and none that reads it otherwise
    assert {"os", "os_re", "os_acquired", "os_acquired_re", "os_reported_intervals", "os_by_class"} <= flagged
    assert not flagged & {"os_s1800a_80", "os_s1800a_p", "os_acquired_s1800a_80", "os_verified_only", "pfs", "orr"}
    kinds = {(f.trial_id, f.kind) for f in results["os"].input_flags}
    assert kinds == {("lung-map-s1800a", "events"), ("lung-map-s1800a", "p_value")}
    events = next(f for f in results["os"].input_flags if f.kind == "events")
    assert "implies at least 167 events" in events.reason and "more than the 136 patients randomised" in events.reason


def test_pool_table_and_json_show_the_flags_and_caveats(results):
    chosen = [results[a] for a in ("os", "os_s1800a_80", "os_acquired_re")]
    table = to_table(chosen)
    assert "    flag: Lung-MAP S1800A: its 95% CI 0.51–0.92 implies at least 167 events" in table
    assert "    flag: Lung-MAP S1800A: read at 95%, HR 0.69 (0.51–0.92) implies a one-sided P of 0.0049–0.0092" in table
    assert "caveat: random effects on k = 3 < 5 studies" in table and "t on 2 df (4.30 instead of 1.96)" in table
    out = {d["analysis"]: d for d in json.loads(to_json(chosen))}
    assert [f["kind"] for f in out["os"]["input_flags"]] == ["events", "p_value"]
    assert out["os_s1800a_80"]["input_flags"] == []
    assert out["os_acquired_re"]["caveats"][0].startswith("random effects on k = 3 < 5 studies")


def test_declared_sensitivity_analyses_that_change_the_conclusion(results):
    changes = {c.analysis: c for c in sensitivity_changes(results["os"], results.values())}
    assert set(changes) == {"os_re", "os_s1800a_80", "os_s1800a_p", "os_verified_only"}
    assert changes["os_s1800a_80"].estimate == "HR 0.91 (0.83–1.01)" and changes["os_s1800a_80"].conclusion == "includes"
    assert [c.analysis for c in sensitivity_changes(results["pfs"], results.values())] == ["pfs_re"]
    assert sensitivity_changes(results["orr"], results.values()) == []  # the main CI already includes 1


def test_meta_regression_with_fewer_than_ten_studies_per_moderator_has_a_caveat(results):
    for a in ("os_by_prior_io", "os_by_partner"):
        reg = results[a].metareg
        cav = [c.text for c in results[a].caveats if c.text.startswith("meta-regression")]
        assert reg is not None and cav and "(Cochrane Handbook 10.11.5.1)" in cav[0], a
        assert f"on {reg.k} studies" in cav[0]
    assert not any(c.text.startswith("random effects") for c in results["pfs_re"].caveats)  # k = 5: none


def test_meta_regression_coefficients_say_what_they_estimate(results):
    from livemeta.analysis.present import coefficient_labels, metareg_summary

    labels = coefficient_labels(results["os_by_partner"])
    assert labels == ["intercept: HR where treatment class = antiangiogenic",
                      "treatment class: dual checkpoint vs antiangiogenic (ratio of HRs)",
                      "treatment class: multitarget TKI vs antiangiogenic (ratio of HRs)"]
    assert all("per unit" not in c["label"] for c in metareg_summary(results["os_by_partner"])["coefficients"])
    table = to_table([results["os_by_partner"]])
    assert "    intercept: HR where treatment class = antiangiogenic: 0.87 (0.66–1.15)" in table
    assert "HR ×" not in table  # the intercept used to read "HR ratio per unit"


def test_the_moderator_is_coded_from_what_each_trial_required(bundled_db):
    """'none required' is not 'zero months': trials without a minimum prior exposure get no number of
    months; Pragmatica-Lung's 'progression > 84 days after the start' is a minimum, as S1800A's."""
    with connect(bundled_db, read_only=True) as con:
        rows = con.execute("SELECT trial_id, prior_io_minimum, round(min_prior_io_months, 2) FROM analysis_rct_os "
                           "WHERE inclusion = 'included' ORDER BY trial_id").fetchall()
    assert rows == [("contact-01", "none required", None), ("keyvibe-002", "none required", None),
                    ("leap-008", "none required", None), ("lung-map-s1800a", "required", 2.76),
                    ("pragmatica-lung-s2302", "required", 2.76), ("saffron-301", "none required", None),
                    ("sapphire", "required", 4.0)]
