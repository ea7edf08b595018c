"""GRADE: the rules of the computed domains on fictional analyses, absolute effects, and the rating
(never a silent 'high': a domain not assessed makes the outcome 'not rated')."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from livemeta.analysis.grade import (
    Judgement,
    OutcomeGrade,
    absolute_effect,
    certainty,
    optimal_information,
    parse_grade,
    propose_imprecision,
    propose_inconsistency,
    propose_publication_bias,
    rob_summary,
)
from livemeta.errors import LivemetaError

from ..reports._builders import OS, hr_frame, make_result


def result(rows, **kw):
    return make_result(hr_frame(rows), id="x", revision=1, **kw)


def rows_from(hrs):
    """Fictional HR rows: (estimate, ci_low, ci_high) each."""
    return [(f"t{i}", f"Study {i}", e, lo, hi, "multitarget_tki", "docetaxel", True, 2015 + i)
            for i, (e, lo, hi) in enumerate(hrs, 1)]


G = OutcomeGrade("x", "Overall survival", threshold=1.0, effect=0.80)


def test_optimal_information_size():
    # (z(0.975) + z(0.8))^2 / ln(0.8)^2 = 7.8489 / 0.049793 = 157.63; about 630 events (x 4)
    assert optimal_information(0.80) == pytest.approx(157.63004279511372, rel=1e-12)
    assert optimal_information(1.25) == pytest.approx(optimal_information(0.80), rel=1e-12)


def re_of(res):
    """The random-effects (REML, HKSJ) sensitivity analysis of a fictional result."""
    return make_result(res.studies.drop(columns="weight"), id=f"{res.spec.id}_re", revision=1, method="REML",
                       test="knha", sensitivity_of=res.spec.id)


def test_inconsistency_rules():
    os_ = result(OS)
    rating, reason = propose_inconsistency(os_, re_of(os_))  # the 7 OS hazard ratios: I² 0%
    assert rating == "not_serious" and reason.startswith("I² = 0% (x_re: REML, HKSJ), study estimates 6 below and 1 "
                                                         "above 1.00, 95% prediction interval 0.")
    assert reason.endswith("(x_re: REML, t(k-1) = t(6), HKSJ)")
    # without a random-effects analysis: I² from Q, no prediction interval
    assert propose_inconsistency(os_)[1].startswith("I² = 0% (Cochran's Q; no random-effects analysis")
    het = result(rows_from([(0.5, 0.4, 0.62), (1.3, 1.1, 1.55), (0.9, 0.8, 1.01)]))
    assert het.overall.i2 > 90
    rating, reason = propose_inconsistency(het, re_of(het))
    assert rating == "very_serious" and "I² >= 75% and the studies' estimates lie on both sides of 1.00" in reason
    # I² >= 50% but every study on the benefit side: a difference of size, not of decision (GRADE 7)
    moderate = result(rows_from([(0.7, 0.55, 0.9), (0.95, 0.8, 1.12), (0.8, 0.7, 0.92), (0.6, 0.45, 0.8)]))
    assert 50 <= moderate.overall.i2 < 75
    rating, reason = propose_inconsistency(moderate, re_of(moderate))
    assert rating == "not_serious" and "every study's estimate lies on the same side of 1.00" in reason
    # the same spread across the threshold: serious
    across = result(rows_from([(0.7, 0.55, 0.9), (1.05, 0.88, 1.25), (0.8, 0.7, 0.92), (0.75, 0.6, 0.94)]))
    re = re_of(across)
    assert 50 <= re.overall.i2 < 75
    assert propose_inconsistency(across, re)[0] == "serious"
    assert propose_inconsistency(result(OS[:1])) == ("not_serious", "one study: inconsistency not applicable")


def test_inconsistency_at_the_i2_boundary_of_50():
    """The rule as it is today: I² >= 50% with the studies' estimates on both sides of the threshold is
    serious, so I² of exactly 50% is serious and just below is not (k = 2, no prediction interval: only
    the I² part of the rule applies). Two studies with yi -1/8 and 1/8, vi 1/64 each, give Q = 2 on
    1 df, I² = 50% exactly in binary."""
    import pandas as pd

    def two(v2: float):
        df = pd.DataFrame({"trial_id": ["a", "b"], "label": ["A", "B"], "yi": [-0.125, 0.125], "vi": [1 / 64, v2]})
        return make_result(df, id="x", revision=1)

    at = two(1 / 64)
    assert at.overall.q == 2.0 and at.overall.i2 == 50.0
    rating, reason = propose_inconsistency(at)
    assert rating == "serious" and reason.endswith(": I² >= 50% and the studies' estimates lie on both sides of 1.00")
    below = two(1 / 63)  # Q a little under 2: I² 49.6%, printed as 50% but below the boundary
    assert 49 < below.overall.i2 < 50
    rating, reason = propose_inconsistency(below)
    assert rating == "not_serious" and reason.startswith("I² = 50% ") and ">=" not in reason


def test_imprecision_rules():
    rating, reason = propose_imprecision(result(OS), G)  # CI 0.82-0.99, information ~420 > 157.6
    info = float(np.sum(1 / result(OS).studies["vi"]))
    assert rating == "not_serious" and f"information {info:.0f} (about {4 * info:,.0f} events) vs OIS 158" in reason
    assert 410 < info < 430
    # one trial whose CI includes 1: serious (the CI includes 1, and the OIS is not met)
    rating, reason = propose_imprecision(result(OS[2:3]), G)  # LEAP-008 0.98 (0.78-1.23)
    assert rating == "serious" and reason.endswith("the CI includes 1.00 and the OIS is not met")
    # a CI including both 0.80 and 1.25: very serious
    rating, reason = propose_imprecision(result(rows_from([(1.0, 0.6, 1.6)])), G)
    assert rating == "very_serious" and "the CI includes both 0.80 and 1.25" in reason
    # a precise CI but too little information: serious
    small = result(rows_from([(0.7, 0.52, 0.94)]))  # 1/vi ~ 69 < 157.6
    assert propose_imprecision(small, G)[0] == "serious"
    # without an effect for the OIS, the rule cannot clear imprecision
    rating, reason = propose_imprecision(result(OS), OutcomeGrade("x", "OS"))
    assert rating is None and "cannot say 'not serious'" in reason


def test_publication_bias_needs_ten_studies():
    assert propose_publication_bias(result(OS)) == (None, "k = 7 < 10: funnel asymmetry cannot be assessed")
    rng = np.random.default_rng(1)
    hrs = []
    for i in range(12):  # small studies with larger effects: asymmetric
        half = 0.1 + 0.06 * i
        est = math.exp(-0.05 - 0.25 * half * 4)
        hrs.append((round(est, 2), round(est * math.exp(-half), 2), round(est * math.exp(half), 2)))
    rng.shuffle(hrs)
    rating, reason = propose_publication_bias(result(rows_from(hrs)))
    assert rating == "serious" and reason.startswith("Egger's test p = ") and "funnel asymmetry" in reason
    sym = [(0.85, round(0.85 * math.exp(-h), 3), round(0.85 * math.exp(h), 3)) for h in np.linspace(0.1, 0.6, 12)]
    assert propose_publication_bias(result(rows_from(sym)))[0] == "not_serious"


def test_not_rated_unless_every_domain_is_assessed():
    c = certainty(result(OS), G)
    assert c.level == "not rated" and c.start == "high"
    by = {d.name: d for d in c.domains}
    assert by["risk_of_bias"].status == "not assessed" and by["indirectness"].status == "not assessed"
    assert by["inconsistency"].status == "proposed" and by["inconsistency"].rating == "not_serious"
    assert by["imprecision"].status == "proposed" and by["publication_bias"].rating is None
    assert [d.name for d in c.not_assessed] == ["risk_of_bias", "indirectness", "publication_bias"]


def test_rating_with_reviewed_judgements_and_an_override():
    judged = {
        "risk_of_bias": Judgement("serious", "most weight from trials with some concerns (open label)", "A. R.", "2026-01-15"),
        "indirectness": Judgement("not_serious", "population, comparators and outcome as in the question"),
        "publication_bias": Judgement("not_serious", "registries searched; k < 10"),
    }
    g = OutcomeGrade("x", "OS", effect=0.80, judgements=judged)
    c = certainty(result(OS), g)
    assert c.level == "moderate" and [d.name for d in c.downgrades] == ["risk_of_bias"]
    assert next(d for d in c.domains if d.name == "risk_of_bias").reason.endswith("(A. R., 2026-01-15)")
    # a reviewer replaces a proposal: shown beside it
    g2 = OutcomeGrade("x", "OS", effect=0.80, judgements=judged | {
        "imprecision": Judgement("very_serious", "few events in the trials at low risk of bias")})
    c2 = certainty(result(OS), g2)
    imp = next(d for d in c2.domains if d.name == "imprecision")
    assert (imp.status, imp.rating, imp.proposal) == ("reviewed", "very_serious", "not_serious")
    assert c2.level == "very low"  # high - 1 (risk of bias) - 2 (imprecision), floored
    # single-arm evidence starts low
    sa = make_result(hr_frame(OS).assign(yi=np.log(0.3), vi=0.05), id="sa", revision=1, measure="proportion",
                     view="analysis_single_arm_orr")
    assert certainty(sa, g).start == "low"


def test_risk_of_bias_summary_by_weight():
    res = result(OS)
    w = res.studies.set_index("trial_id")["weight"]
    rob = {"contact-01": "low", "sapphire": "high"}
    text = rob_summary(res, rob)
    assert text == (f"{w['contact-01']:.0f}% low, {w['sapphire']:.0f}% high, "
                    f"{100 - w['contact-01'] - w['sapphire']:.0f}% not assessed")


def test_absolute_effects_of_a_hazard_ratio_under_exponential_survival():
    one = result(rows_from([(0.8, 0.7, 0.9)]))
    g = parse_grade("grade: 1\noutcomes:\n  - analysis: x\n    outcome: OS\n"
                    "    baseline: {from: control_arms, kind: median, landmark: 12}\n")[0]
    ae = absolute_effect(one, g, [9.0, 10.0, 11.0])
    # S_c(12) = 2^(-12/10) = 0.435275; deaths per 1,000: 564.72 control, 1000 (1 - 0.435275^0.8) = 485.94
    assert ae.control == pytest.approx(564.7247183519379, rel=1e-12)
    assert ae.intervention == pytest.approx(485.94308667196674, rel=1e-9)
    lo, hi = (math.exp(x) for x in (one.overall.ci_low, one.overall.ci_high))
    assert ae.intervention_low == pytest.approx(1000 * (1 - 2 ** (-1.2 * lo)), rel=1e-12)
    d, dlo, dhi = ae.difference
    assert d == pytest.approx(485.94308667196674 - 564.7247183519379, rel=1e-9) and dlo < d < dhi < 0
    assert ae.median_control == 10.0 and ae.median_intervention[0] == pytest.approx(12.5)
    assert "median of the control arms' medians (3 trials): 10 months" in ae.basis and "exponential" in ae.basis


def test_absolute_effects_of_an_odds_ratio():
    from livemeta.pooling.effects import log_or

    import pandas as pd

    df = pd.DataFrame({"trial_id": ["a"], "label": ["A"], "ai": [30], "bi": [70], "ci": [20], "di": [80],
                       "verified": [True]})
    es = log_or(df.ai, df.bi, df.ci, df.di)
    res = make_result(df.assign(yi=np.asarray(es.yi, float), vi=np.asarray(es.vi, float)), id="orr", revision=1,
                      measure="OR", view="analysis_rct_orr")
    g = OutcomeGrade("orr", "ORR", baseline=parse_grade(
        "grade: 1\noutcomes:\n  - {analysis: orr, outcome: ORR, baseline: {kind: risk, value: 0.2, source: 'a trial'}}\n"
    )[0].baseline)
    ae = absolute_effect(res, g, [])
    orr = (30 / 70) / (20 / 80)  # 1.714
    assert ae.control == pytest.approx(200) and ae.intervention == pytest.approx(1000 * orr * 0.2 / (1 - 0.2 + orr * 0.2))
    assert ae.basis == "stated: 0.2 (a trial)"


@pytest.mark.parametrize("text, message", [
    ("grade: 2\n", "reads GRADE files of format 1"),
    ("grade: 1\noutcomes:\n  - {analysis: os}\n", "needs analysis (an analysis id) and outcome"),
    ("grade: 1\noutcomes:\n  - {analysis: os, outcome: OS, judgements: {risk_of_bias: {rating: serious}}}\n",
     "a judgement needs its reason"),
    ("grade: 1\noutcomes:\n  - {analysis: os, outcome: OS, judgements: {bias: {rating: serious, reason: r}}}\n",
     "unknown domain 'bias'"),
    ("grade: 1\noutcomes:\n  - {analysis: os, outcome: OS, judgements: {indirectness: {rating: high, reason: r}}}\n",
     "one of not_serious, serious, very_serious"),
    ("grade: 1\noutcomes:\n  - {analysis: os, outcome: OS, baseline: {from: stated, value: 9}}\n",
     "a stated baseline needs value and source"),
    ("grade: 1\noutcomes:\n  - {analysis: os, outcome: OS, imprecison: {}}\n", "unknown key 'imprecison'"),
])
def test_bad_grade_files_are_refused(text, message):
    with pytest.raises(LivemetaError, match=re.escape(message)):
        parse_grade(text, "g.yaml")


def test_the_bundled_grade_file_records_no_judgement():
    from livemeta.project import load_project
    from tests.conftest import REPO

    proj = load_project(REPO)
    outcomes = parse_grade(proj.grade.read_text(), proj.grade.name)
    assert [o.analysis for o in outcomes] == ["os", "pfs", "orr", "ae_g3", "os_acquired"]
    assert all(o.judgements == {} for o in outcomes)  # never a guessed judgement for real trials
