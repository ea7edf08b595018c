"""The numbers behind the GRADE rules and the plausibility flags against R (issue 23 items 2, 5, 6, 9).

Reference: ``tests/analysis/reference/grade_reference.json``, written by
``make_grade_reference.R`` from printed numbers (the study files' raw_text and
``bundled_inputs.csv``, derived without livemeta): metafor 3.8.1 for the random-effects models,
their prediction intervals and D², R's power.prop.test for the optimal information size in
patients, qnorm / pnorm for what a printed interval implies.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from livemeta.analysis.grade import (
    OutcomeGrade,
    absolute_effect,
    certainty,
    optimal_information,
    optimal_information_patients,
    parse_grade,
    prediction_interval_text,
    propose_imprecision,
    propose_inconsistency,
    random_effects_model,
)
from livemeta.pooling.plausibility import check_many, hr_findings
from livemeta.pooling.sequential import diversity

from ..reports._builders import make_result

REF = json.loads((Path(__file__).parent / "reference" / "grade_reference.json").read_text())
CASES = {c["name"]: c for c in REF["cases"]}
HRS = CASES["plausibility"]["hrs"]
MODELS = {m["analysis"]: m for m in CASES["models"]["models"]}
OIS = CASES["ois"]["ois"]
PRINTED = {  # the printed P and its sidedness of each case (the R script's inputs)
    "lung-map-s1800a": (0.69, 0.51, 0.92, 0.05, "one"), "lung-map-s1800a@80": (0.69, 0.51, 0.92, 0.05, "one"),
    "contact-01": (0.88, 0.68, 1.16, 0.3668, None), "leap-008": (0.98, 0.78, 1.23, 0.4342, "one"),
    "alter-l016-l018": (0.82, 0.47, 1.44, 0.488, None), "sapphire": (0.86, 0.70, 1.05, 0.144, None),
    "keyvibe-002-pfs": (0.77, 0.53, 1.13, 0.091, None), "keyvibe-002-pfs-subgroup": (1.40, 0.96, 2.02, 0.9622, None),
}


@pytest.mark.parametrize("case", HRS, ids=[h["trial"] for h in HRS])
def test_plausibility_of_printed_hazard_ratios_matches_r(case):
    hr, lo, hi, p, sided = PRINTED[case["trial"]]
    level = case["level"] / 100
    got = check_many(hr=[hr], ci_low=[lo], ci_high=[hi], level=[level], p_value=[p], p_sided=[sided], n=[case["n"]],
                     vi=[float("nan")], derivation=["ci"])
    assert got["events"][0] == pytest.approx(case["events_min"], rel=1e-12)
    assert (got["p_low"][0], got["p_high"][0]) == pytest.approx(tuple(case["p_two_range"]), rel=1e-10)
    found = dict(hr_findings(hr=hr, ci_low=lo, ci_high=hi, level=level, p_value=p, p_sided=sided, n=case["n"]))
    assert ("events" in found) == case["flag_events"]
    assert ("p_value" in found) == case["flag_p"]


def test_s1800a_read_at_95_is_the_only_flagged_reading():
    flagged = [h["trial"] for h in HRS if h["flag_events"] or h["flag_p"]]
    assert flagged == ["lung-map-s1800a"]
    s1800a = HRS[0]
    assert round(s1800a["events_exact"]) == 177 and s1800a["events_min"] > 136  # ~177 deaths in 136 patients
    assert s1800a["p_two_exact"] / 2 == pytest.approx(0.0068, abs=1e-4)  # one-sided, where 0.05 is printed
    text = dict(hr_findings(hr=0.69, ci_low=0.51, ci_high=0.92, level=0.95, p_value=0.05, p_sided="one", n=136))
    assert "at least 167 events" in text["events"] and "136 patients randomised" in text["events"]
    assert "one-sided P of 0.0049–0.0092, not the printed 0.05" in text["p_value"]
    # the variance from the printed P (os_s1800a_p) implies a plausible number of events
    assert hr_findings(hr=0.69, ci_low=None, ci_high=None, level=None, p_value=0.05, p_sided="one", n=136,
                       derivation="p_value") == []


def _result(analysis: str, *, method: str, test: str, sensitivity_of=None, id=None):
    m = MODELS[analysis]
    df = pd.DataFrame({"trial_id": [f"t{i}" for i in range(m["k"])], "label": [f"T{i}" for i in range(m["k"])],
                       "yi": m["yi"], "vi": m["vi"]})
    return make_result(df, id=id or analysis, revision=1, method=method, test=test, sensitivity_of=sensitivity_of)


@pytest.mark.parametrize("analysis", ["pfs", "os_acquired"])
def test_grade_reads_the_prediction_interval_of_the_random_effects_analysis_the_report_shows(analysis):
    """issue 20 item 3 / issue 23 item 5: one random-effects model and one prediction interval,
    labelled; t on k - 1 df under HKSJ as the pooled table's row, not the normal one."""
    m = MODELS[analysis]
    main = _result(analysis, method="FE", test="z")
    re = _result(analysis, method="REML", test="knha", sensitivity_of=analysis, id=f"{analysis}_re")
    assert random_effects_model(main, {main.spec.id: main, re.spec.id: re}) is re
    assert re.overall.pi_low == pytest.approx(m["pi_lb_t"], abs=1e-6)
    assert re.overall.pi_high == pytest.approx(m["pi_ub_t"], abs=1e-6)
    lo, hi = math.exp(m["pi_lb_t"]), math.exp(m["pi_ub_t"])
    text = prediction_interval_text(re)
    assert text == f"95% prediction interval {lo:.2f}–{hi:.2f} ({analysis}_re: REML, t(k-1) = t({m['k'] - 1}), HKSJ)"
    rating, reason = propose_inconsistency(main, re)
    assert text in reason and f"I² = {m['I2']:.0f}% ({analysis}_re: REML, HKSJ)" in reason
    normal = f"{math.exp(m['pi_lb_normal']):.2f}–{math.exp(m['pi_ub_normal']):.2f}"
    assert normal not in reason  # the old footnote's z-based interval (PFS 0.66–1.14) is gone


@pytest.mark.parametrize("analysis", ["pfs", "os_acquired"])
def test_imprecision_on_the_random_effects_interval_with_the_heterogeneity_adjusted_ois(analysis):
    m = MODELS[analysis]
    main = _result(analysis, method="FE", test="z")
    re = _result(analysis, method="REML", test="knha", sensitivity_of=analysis, id=f"{analysis}_re")
    assert diversity(m["yi"], m["vi"], method="REML") == pytest.approx(m["D2"], abs=1e-6)
    g = OutcomeGrade(analysis, analysis, effect=0.80)
    rating, reason = propose_imprecision(main, g, re)
    ci = f"{math.exp(m['ci_lb']):.2f}–{math.exp(m['ci_ub']):.2f}"
    assert reason.startswith(f"95% CI {ci} ({analysis}_re: REML, HKSJ: the heterogeneity")
    adj = OIS["information"] / (1 - m["D2"])
    assert f"(D² = {m['D2']:.2f}, REML) to {adj:.0f} ({4 * adj:,.0f} events)" in reason
    # PFS: the fixed-effect CI 0.79-0.98 excluded 1 ("not serious" before); the random-effects one includes it
    assert rating == {"pfs": "serious", "os_acquired": "very_serious"}[analysis]


def test_the_i2_rule_looks_at_the_threshold_and_50_is_the_boundary():
    """GRADE 7: I² >= 50% with every study on one side of the threshold is not serious; both sides
    is; the boundary 50% itself counts (>=)."""
    yi, vi = np.log([0.5, 0.7, 0.9]), np.array([0.01, 0.01, 0.01])

    def at(i2_target, ys):
        df = pd.DataFrame({"trial_id": ["a", "b", "c"], "label": ["A", "B", "C"], "yi": ys, "vi": vi})
        res = make_result(df, id="x", revision=1)
        # a stand-in random-effects model whose I² is exactly the target
        re = make_result(df, id="x_re", revision=1, method="REML", test="knha", sensitivity_of="x")
        from dataclasses import replace
        return res, replace(re, overall=replace(re.overall, i2=i2_target))

    one_side = at(50.0, yi)
    assert propose_inconsistency(*one_side)[0] == "not_serious"
    assert "every study's estimate lies on the same side of 1.00" in propose_inconsistency(*one_side)[1]
    both = at(50.0, np.log([0.7, 0.9, 1.3]))
    assert propose_inconsistency(*both)[0] == "serious"
    below = at(49.99, np.log([0.7, 0.9, 1.3]))
    assert propose_inconsistency(*below)[0] != "serious" or "prediction interval includes" in propose_inconsistency(*below)[1]
    assert propose_inconsistency(*at(75.0, np.log([0.5, 0.9, 1.6])))[0] == "very_serious"


def test_optimal_information_sizes_match_r():
    assert optimal_information(OIS["hr"]) == pytest.approx(OIS["information"], rel=1e-12)
    n, pe = optimal_information_patients(OIS["or"], OIS["control_risk"], "OR")
    assert n == pytest.approx(OIS["n_per_group_closed"], rel=1e-12)
    assert n == pytest.approx(OIS["n_per_group_power_prop_test"], rel=1e-9)
    assert pe == pytest.approx(OIS["risk_with"], rel=1e-12)
    assert 2 * math.ceil(n) == 4626  # "about 4,620" patients (issue 23 item 9), not events / 4


def test_orr_imprecision_is_judged_in_patients_not_events():
    from livemeta.pooling.effects import log_or

    df = pd.DataFrame({"trial_id": ["saffron-301", "sapphire"], "label": ["S", "P"], "ai": [23, 44], "bi": [164, 240],
                       "ci": [24, 50], "di": [166, 243]})
    es = log_or(df.ai, df.bi, df.ci, df.di)
    res = make_result(df.assign(yi=np.asarray(es.yi), vi=np.asarray(es.vi)), id="orr", revision=1, measure="OR",
                      view="analysis_rct_orr")
    assert int(df[["ai", "bi", "ci", "di"]].to_numpy().sum()) == OIS["participants"]
    rating, reason = propose_imprecision(res, OutcomeGrade("orr", "ORR", effect=1.25), None, OIS["control_risk"])
    assert "954 participants vs OIS 4,626 patients (2 x 2,313" in reason and "events" not in reason
    assert rating == "very_serious"
    # without a control risk the rule says what it needs, and cannot clear imprecision
    rating, reason = propose_imprecision(res, OutcomeGrade("orr", "ORR", effect=2.0, threshold=0.5))
    assert rating is None and "needs the control risk" in reason


def test_absolute_effects_stay_risks():
    """Control risk 0.425 and RR 1.8 (1.3-2.6): 1,105 per 1,000 before; bounded at 1,000 (R: pmin)."""
    from dataclasses import replace

    ref = {e["measure"]: e for e in CASES["absolute"]["effects"]}
    for measure in ("RR", "OR"):
        e = ref[measure]
        df = pd.DataFrame({"trial_id": ["a"], "label": ["A"], "yi": [math.log(e["estimate"])], "vi": [0.04]})
        res = make_result(df, id="x", revision=1, measure=measure, view="analysis_rct_orr")
        res = replace(res, overall=replace(res.overall, ci_low=math.log(e["ci_low"]), ci_high=math.log(e["ci_high"])))
        g = parse_grade("grade: 1\noutcomes:\n  - {analysis: x, outcome: X, baseline: "
                        f"{{kind: risk, value: {e['control_risk']}, source: 'a trial'}}}}\n")[0]
        ae = absolute_effect(res, g, [])
        got = [ae.intervention, ae.intervention_low, ae.intervention_high]
        assert got == pytest.approx(e["per_1000"], rel=1e-6)
        assert max(got) <= 1000
    assert ref["RR"]["unbounded"][2] == pytest.approx(1105)
    assert "bounded at 1,000 per 1,000" in absolute_effect(
        make_result(pd.DataFrame({"trial_id": ["a"], "label": ["A"], "yi": [math.log(1.8)], "vi": [0.0345]}), id="x",
                    revision=1, measure="RR", view="analysis_rct_orr"),
        parse_grade("grade: 1\noutcomes:\n  - {analysis: x, outcome: X, baseline: {kind: risk, value: 0.425, "
                    "source: s}}\n")[0], []).basis


def test_a_risk_baseline_above_one_is_refused():
    from livemeta.errors import LivemetaError

    with pytest.raises(LivemetaError, match="a risk is a proportion between 0 and 1"):
        parse_grade("grade: 1\noutcomes:\n  - {analysis: x, outcome: X, baseline: {kind: risk, value: 42.5, source: s}}\n")


def test_certainty_names_the_sensitivity_analysis_that_changes_the_conclusion():
    """Where a declared sensitivity analysis's CI crosses 1 and the main one's does not, the
    imprecision domain says so, with the estimate."""
    m = MODELS["pfs"]
    main = _result("pfs", method="FE", test="z")
    re = _result("pfs", method="REML", test="knha", sensitivity_of="pfs", id="pfs_re")
    c = certainty(main, OutcomeGrade("pfs", "PFS", effect=0.80), results={"pfs": main, "pfs_re": re})
    assert [ch.analysis for ch in c.changes] == ["pfs_re"]
    note = next(d for d in c.domains if d.name == "imprecision").note
    ci = f"{math.exp(m['ci_lb']):.2f}–{math.exp(m['ci_ub']):.2f}"
    assert "in 1 declared sensitivity analysis it includes 1" in note and f"[pfs_re]: HR 0.87 ({ci})" in note
