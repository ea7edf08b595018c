"""Trial sequential analysis of a cumulative meta-analysis (livemeta.pooling.sequential.monitor).

The boundaries themselves are checked against rpact in test_sequential_reference.py and
test_sequential_overrun.py; here: the required information size, the diversity adjustment, the
model of the z-curve (one model with the adjustment), the information scale, the cumulative z per
look and the crossing rules.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from livemeta.pooling import pool
from livemeta.pooling.sequential import (
    crossing_probability,
    diversity,
    group_sequential_design,
    monitor,
    monitoring_model,
    required_information,
)

Y = np.log([0.80, 0.92, 0.85, 0.95, 0.70, 0.88])
V = np.array([0.020, 0.015, 0.030, 0.010, 0.050, 0.012])
LOOKS = [2019, 2020, 2020, 2022, 2023, 2024]
# heterogeneous: the DerSimonian-Laird tau2 is positive from the second look on
YH = np.log([0.60, 1.05, 0.70, 1.10, 0.65, 0.95])
VH = np.array([0.010, 0.012, 0.015, 0.010, 0.020, 0.008])


def test_required_information_for_hr_080():
    # (z_0.975 + z_0.80)^2 / log(0.8)^2 = 157.63...; x 4 = 630.5 events (Schoenfeld, 1:1)
    ris = required_information(math.log(0.8), alpha=0.05, power=0.8)
    assert ris == pytest.approx((1.959963984540054 + 0.8416212335729143) ** 2 / math.log(0.8) ** 2, rel=1e-14)
    assert 4 * ris == pytest.approx(630.5, abs=0.1)
    assert required_information(math.log(0.8), alpha=0.025, power=0.9, sided=1) == pytest.approx(
        (1.959963984540054 + 1.2815515655446004) ** 2 / math.log(0.8) ** 2, rel=1e-14)
    with pytest.raises(ValueError):
        required_information(0.0)


def test_diversity_is_one_minus_the_variance_ratio():
    fe, re = pool(Y, V, method="FE"), pool(Y, V, method="DL")
    assert diversity(Y, V) == pytest.approx(1 - fe.se**2 / re.se**2, rel=1e-14)
    assert diversity(Y[:1].repeat(3), V[:3]) == 0.0  # tau2 = 0
    y = np.array([-0.5, 0.4, -0.3, 0.6])
    assert diversity(y, np.full(4, 0.01)) > pool(y, np.full(4, 0.01), method="DL").i2 / 100 - 1e-12


@pytest.mark.parametrize("heterogeneity, estimator, model", [
    ("D2", "DL", "DL"), ("I2", "DL", "DL"), (0.3, "DL", "DL"), ("D2", "REML", "REML"), ("none", "DL", "FE"),
    ("none", "FE", "FE")])
def test_the_z_curve_comes_from_the_model_the_adjustment_assumes(heterogeneity, estimator, model):
    """Issue 23: with D2, I2 or a fixed adjustment the cumulative z is the random-effects one (the
    estimator's), without adjustment the fixed-effect one; the adjustment is computed under the same
    random-effects model."""
    m = monitor(YH, VH, LOOKS, target=math.log(0.8), heterogeneity=heterogeneity, estimator=estimator)
    assert m.model == model
    for j, lab in enumerate(m.looks):
        sel = np.array(LOOKS) <= lab
        r = pool(YH[sel], VH[sel], method=model)
        assert m.z[j] == pytest.approx(r.estimate / r.se, rel=1e-10)
        assert m.estimate[j] == pytest.approx(r.estimate, rel=1e-10) and m.se[j] == pytest.approx(r.se, rel=1e-10)
    fe = [pool(YH[np.array(LOOKS) <= lab], VH[np.array(LOOKS) <= lab], method="FE") for lab in m.looks]
    fe_z = [r.estimate / r.se for r in fe]
    if model == "FE":
        np.testing.assert_allclose(m.z, fe_z, rtol=1e-12)
    else:  # the data are heterogeneous: the two curves differ at the last look by more than 0.4
        assert abs(m.z[-1] - fe_z[-1]) > 0.4
    if heterogeneity == "D2":
        assert m.adjustment == pytest.approx(diversity(YH, VH, method=estimator), rel=1e-12)
        assert m.heterogeneity == f"D2 ({estimator})"
    elif heterogeneity == "I2":
        assert m.adjustment == pytest.approx(pool(YH, VH, method="DL").i2 / 100, rel=1e-12)


def test_a_fixed_effect_z_curve_with_an_adjustment_is_refused():
    with pytest.raises(ValueError, match="assumes a random-effects model"):
        monitor(YH, VH, LOOKS, target=math.log(0.8), heterogeneity="D2", estimator="FE")
    with pytest.raises(ValueError, match="unknown method"):
        monitoring_model("D2", "XX")
    assert monitoring_model("none", "REML") == "FE" and monitoring_model(0.2) == "DL"


def test_monitor_table_looks_and_boundaries_below_the_required_information():
    m = monitor(Y, V, LOOKS, target=math.log(0.85), heterogeneity="none", power=0.9, alpha=0.01)
    assert m.looks == (2019, 2020, 2022, 2023, 2024)
    assert m.k.tolist() == [1, 3, 4, 5, 6]
    np.testing.assert_allclose(m.information, np.cumsum(1 / V)[[0, 2, 3, 4, 5]])
    ris = required_information(math.log(0.85), alpha=0.01, power=0.9)
    assert m.required_information_adjusted == pytest.approx(ris)
    assert m.overrun_look is None and (m.fraction < 1).all()
    design = group_sequential_design(list(m.fraction) + [1.0], alpha=0.01, sided=2, beta=0.1)
    np.testing.assert_allclose(-m.efficacy_bound, design.critical_values[:-1], rtol=1e-12)
    np.testing.assert_allclose(m.harm_bound, design.critical_values[:-1], rtol=1e-12)
    np.testing.assert_allclose(m.alpha_spent, design.alpha_spent[:-1], rtol=1e-12)
    assert np.isnan(m.futility_bound).all()
    # what these boundaries spend: the alpha spent at the last look
    assert m.alpha_total == pytest.approx(design.alpha_spent[-2], rel=1e-8)


@pytest.mark.parametrize("overrun", ["alpha_preserving", "final_boundary"])
def test_boundaries_past_the_required_information(overrun):
    """Looks 2022-2024 lie past the required information (no adjustment, target HR 0.80)."""
    m = monitor(Y, V, LOOKS, target=math.log(0.8), heterogeneity="none", overrun=overrun)
    assert m.overrun == overrun
    j = m.overrun_look
    assert j == 2 and m.fraction[j - 1] < 1 <= m.fraction[j]
    planned = group_sequential_design(list(m.fraction[:j]) + [1.0], alpha=0.05, sided=2)
    np.testing.assert_allclose(-m.efficacy_bound[:j], planned.critical_values[:j], rtol=1e-12)
    if overrun == "final_boundary":  # the planned final boundary at every later look: more than alpha
        np.testing.assert_allclose(-m.efficacy_bound[j:], planned.critical_values[-1], rtol=1e-12)
        assert m.alpha_total > 0.06 and m.overrun_design is None
    else:  # the final analysis spends the rest, with the correlations of the information accrued
        user = list(planned.alpha_spent[:j]) + [0.05]
        over = group_sequential_design(m.fraction[: j + 1] / m.fraction[j], alpha=0.05, sided=2,
                                       type_of_design="asUser", user_alpha_spending=user)
        assert -m.efficacy_bound[j] == pytest.approx(over.critical_values[-1], rel=1e-12)
        assert -m.efficacy_bound[j] > planned.critical_values[-1] + 0.1
        assert np.isnan(m.efficacy_bound[j + 1:]).all() and not m.tested[j + 1:].any()
        assert m.alpha_total == pytest.approx(0.05, abs=1e-9)
        bounds = np.where(m.tested, np.abs(m.efficacy_bound), np.inf)
        assert crossing_probability(m.fraction, bounds) == pytest.approx(0.05, abs=1e-9)
    np.testing.assert_allclose(m.alpha_spent[j:], 0.05)


def test_crossing_rules_and_conclusion():
    m = monitor(Y, V, LOOKS, target=math.log(0.8), heterogeneity="none", overrun="final_boundary")
    crossed = [j for j, c in enumerate(m.crossed) if c]
    for j in range(len(m.looks)):
        assert (m.crossed[j] == "efficacy") == (m.z[j] <= m.efficacy_bound[j])
    assert crossed == [3, 4]
    assert m.conclusion == "efficacy boundary crossed at look 2023"
    # alpha-preserving: the final analysis at 2022 is not crossed (|z| 2.14 < 2.27), later looks are not tested
    a = monitor(Y, V, LOOKS, target=math.log(0.8), heterogeneity="none")
    assert a.crossed == ("", "", "", "", "")
    assert a.conclusion == "required information reached at look 2022 without crossing a boundary (final analysis)"
    # a harmful effect crosses the other boundary
    h = monitor(-Y, V, LOOKS, target=math.log(0.8), heterogeneity="none", overrun="final_boundary")
    assert "harm" in h.crossed and "efficacy" not in h.crossed
    # little information: no crossing, share of the required information reported
    s = monitor(Y[:2], V[:2] * 20, LOOKS[:2], target=math.log(0.8))
    assert s.crossed == ("", "") and s.conclusion.startswith("no boundary crossed;")


def test_one_sided_with_futility_and_events_information():
    ev = np.array([120, 200, 90, 310, 60, 250])
    m = monitor(Y, V, LOOKS, target=math.log(0.8), alpha=0.025, sided=1, futility="bsOF",
                information="events", events=ev, heterogeneity=0.25, overrun="final_boundary")
    assert m.information_kind == "events / 4" and m.heterogeneity == "fixed 0.25" and m.model == "DL"
    np.testing.assert_allclose(m.information, np.cumsum(ev / 4)[[0, 2, 3, 4, 5]])
    assert m.required_information_adjusted == pytest.approx(
        required_information(math.log(0.8), alpha=0.025, sided=1) / 0.75)
    assert np.isnan(m.harm_bound).all()
    early = m.fraction < 1
    assert np.all(m.futility_bound[early] >= m.efficacy_bound[early])  # HR < 1: futility lies above
    assert m.crossed == ("", "", "futility", "", "efficacy")
    for j, c in enumerate(m.crossed):
        zd = -m.z[j]
        if c == "futility":
            assert zd <= -m.futility_bound[j] and zd < -m.efficacy_bound[j]
    # alpha-preserving: the final analysis (2024) closes the continuation region, with its own boundary
    a = monitor(Y, V, LOOKS, target=math.log(0.8), alpha=0.025, sided=1, futility="bsOF",
                information="events", events=ev, heterogeneity=0.25)
    assert a.overrun_look == 4 and a.futility_bound[4] == a.efficacy_bound[4]
    np.testing.assert_allclose(a.efficacy_bound[:4], m.efficacy_bound[:4], rtol=1e-12)
    assert a.efficacy_bound[4] < m.efficacy_bound[4] - 0.1  # |z| 2.23 against the planned 2.09
    assert a.crossed == m.crossed and a.alpha_total == pytest.approx(0.025, abs=1e-9)


@pytest.mark.parametrize("bad", [dict(information="events"), dict(heterogeneity=1.5),
                                 dict(heterogeneity="tau"), dict(sided=2, futility="bsOF"),
                                 dict(overrun="extend"), dict(type_of_design="asUser"),
                                 dict(sided=1, futility="bsOF", binding_futility=True, heterogeneity="none")])
def test_bad_monitoring_arguments(bad):
    with pytest.raises(ValueError):
        monitor(Y, V, LOOKS, target=math.log(0.8), **bad)


@pytest.mark.parametrize("heterogeneity", ["D2", "none"])
@pytest.mark.parametrize("overrun", ["alpha_preserving", "final_boundary"])
def test_batch_path_equals_monitor_per_analysis(heterogeneity, overrun):
    import pandas as pd

    from livemeta.pooling.sequential import monitor_many

    rng = np.random.default_rng(7)
    frames = []
    for a in range(12):
        n = int(rng.integers(2, 9))
        frames.append(pd.DataFrame({"analysis": f"a{a:02d}", "yi": rng.normal(-0.25, 0.25, n),
                                    "vi": rng.uniform(0.005, 0.05, n), "year": rng.integers(2015, 2021, n)}))
    frame = pd.concat(frames, ignore_index=True).sample(frac=1, random_state=3)
    out = monitor_many(frame, "analysis", "year", target=math.log(0.8), heterogeneity=heterogeneity, overrun=overrun)
    past = 0
    for name, grp in frame.groupby("analysis"):
        m = monitor(grp["yi"], grp["vi"], grp["year"], target=math.log(0.8), heterogeneity=heterogeneity,
                    overrun=overrun)
        rows = out[out["analysis"] == name]
        past += m.overrun_look is not None
        assert rows["look"].tolist() == list(m.looks) and (rows["model"] == m.model).all()
        np.testing.assert_allclose(rows["z"], m.z, rtol=1e-12)
        np.testing.assert_allclose(rows["information"], m.information, rtol=1e-12)
        np.testing.assert_allclose(rows["bound"], m.efficacy_bound, rtol=1e-12)  # NaN where not tested
        assert rows["crossed"].tolist() == [c if c in ("efficacy", "harm") else "" for c in m.crossed]
        assert rows["required_information"].iloc[0] == pytest.approx(m.required_information_adjusted)
    assert past >= 3  # the grid has analyses past their required information
