"""Trial sequential analysis of a cumulative meta-analysis (livemeta.pooling.sequential.monitor).

The boundaries themselves are checked against rpact in test_sequential_reference.py;
here: the required information size, the diversity adjustment, the information
scale, the cumulative z per look and the crossing rules.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from livemeta.pooling import pool
from livemeta.pooling.sequential import diversity, group_sequential_design, monitor, required_information

Y = np.log([0.80, 0.92, 0.85, 0.95, 0.70, 0.88])
V = np.array([0.020, 0.015, 0.030, 0.010, 0.050, 0.012])
LOOKS = [2019, 2020, 2020, 2022, 2023, 2024]


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


def test_monitor_table_looks_and_boundaries():
    m = monitor(Y, V, LOOKS, target=math.log(0.8))
    assert m.looks == (2019, 2020, 2022, 2023, 2024)
    assert m.k.tolist() == [1, 3, 4, 5, 6]
    np.testing.assert_allclose(m.information, np.cumsum(1 / V)[[0, 2, 3, 4, 5]])
    d2 = diversity(Y, V)
    assert m.heterogeneity == "D2 (DL)" and m.adjustment == pytest.approx(d2)
    ris = required_information(math.log(0.8))
    assert m.required_information_adjusted == pytest.approx(ris / (1 - d2))
    np.testing.assert_allclose(m.fraction, m.information / m.required_information_adjusted)
    for j, lab in enumerate(m.looks):
        sel = np.array(LOOKS) <= lab
        r = pool(Y[sel], V[sel], method="FE")
        assert m.z[j] == pytest.approx(r.estimate / r.se, rel=1e-12)
    below = [f for f in m.fraction if f < 1]
    design = group_sequential_design(below + [1.0], alpha=0.05, sided=2, beta=0.2)
    # boundaries at the cumulative fractions; beyond the required information the final one
    for j, f in enumerate(m.fraction):
        c = design.critical_values[below.index(f)] if f < 1 else design.critical_values[-1]
        assert m.efficacy_bound[j] == pytest.approx(-c) and m.harm_bound[j] == pytest.approx(c)
    assert np.isnan(m.futility_bound).all()


def test_crossing_rules_and_conclusion():
    m = monitor(Y, V, LOOKS, target=math.log(0.8), heterogeneity="none")
    crossed = [j for j, c in enumerate(m.crossed) if c]
    for j in range(len(m.looks)):
        hit = m.z[j] <= m.efficacy_bound[j]
        assert (m.crossed[j] == "efficacy") == hit
    assert crossed == [3, 4]
    if crossed:
        assert m.conclusion.startswith(f"{m.crossed[crossed[0]]} boundary crossed at look {m.looks[crossed[0]]}")
    # a harmful effect crosses the other boundary
    h = monitor(-Y, V, LOOKS, target=math.log(0.8), heterogeneity="none")
    assert "harm" in h.crossed and "efficacy" not in h.crossed
    # little information: no crossing, share of the required information reported
    s = monitor(Y[:2], V[:2] * 20, LOOKS[:2], target=math.log(0.8))
    assert s.crossed == ("", "") and s.conclusion.startswith("no boundary crossed;")


def test_one_sided_with_futility_and_events_information():
    ev = np.array([120, 200, 90, 310, 60, 250])
    m = monitor(Y, V, LOOKS, target=math.log(0.8), alpha=0.025, sided=1, futility="bsOF",
                information="events", events=ev, heterogeneity=0.25)
    assert m.information_kind == "events / 4" and m.heterogeneity == "fixed 0.25"
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


@pytest.mark.parametrize("bad", [dict(information="events"), dict(heterogeneity=1.5),
                                 dict(heterogeneity="tau"), dict(sided=2, futility="bsOF")])
def test_bad_monitoring_arguments(bad):
    with pytest.raises(ValueError):
        monitor(Y, V, LOOKS, target=math.log(0.8), **bad)


def test_batch_path_equals_monitor_per_analysis():
    import pandas as pd

    from livemeta.pooling.sequential import monitor_many

    rng = np.random.default_rng(7)
    frames = []
    for a in range(12):
        n = int(rng.integers(2, 9))
        frames.append(pd.DataFrame({"analysis": f"a{a:02d}", "yi": rng.normal(-0.15, 0.2, n),
                                    "vi": rng.uniform(0.005, 0.05, n), "year": rng.integers(2015, 2021, n)}))
    frame = pd.concat(frames, ignore_index=True).sample(frac=1, random_state=3)
    for het in ("D2", "none"):
        out = monitor_many(frame, "analysis", "year", target=math.log(0.8), heterogeneity=het)
        for name, grp in frame.groupby("analysis"):
            m = monitor(grp["yi"], grp["vi"], grp["year"], target=math.log(0.8), heterogeneity=het)
            rows = out[out["analysis"] == name]
            assert rows["look"].tolist() == list(m.looks)
            np.testing.assert_allclose(rows["z"], m.z, rtol=1e-12)
            np.testing.assert_allclose(rows["information"], m.information, rtol=1e-12)
            np.testing.assert_allclose(rows["bound"], m.efficacy_bound, rtol=1e-12)
            assert rows["crossed"].tolist() == [c if c in ("efficacy", "harm") else "" for c in m.crossed]
            assert rows["required_information"].iloc[0] == pytest.approx(m.required_information_adjusted)
