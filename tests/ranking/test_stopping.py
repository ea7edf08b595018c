"""The stopping criterion of Callaghan and Müller-Hansen (2020) against worked values: R's phyper()
on the paper's definitions, every sample computed (reference/make_stopping_values.R ->
reference/stopping_values.json), and hand-worked cases."""

from __future__ import annotations

import json
from math import comb

import numpy as np
import pytest

from livemeta.ranking import h0_p_value, stopping_estimate
from livemeta.ranking.stopping import _p_missed, hypergeom_cdf
from tests.conftest import REPO

REF = json.loads((REPO / "tests/ranking/reference/stopping_values.json").read_text())
CASES = REF["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_p_value_and_bound_equal_the_r_computation(case):
    est = stopping_estimate(case["labels"], case["N"], recall_target=case["recall_target"], confidence=0.95)
    assert est.p_value == pytest.approx(case["p"], rel=1e-9, abs=1e-15)
    assert est.includes_left_upper == case["includes_left_upper"]
    assert est.target_reached == (case["p"] < 0.05)


def test_explainer_value_by_hand():
    """95 includes seen then 100 excludes, 1,000 records unscreened: H0 needs K_tar =
    floor(95 / 0.95 - 95 + 1) = 6 includes among the 1,100 records the 100 were drawn from, and
    p = P(no include in 100 draws) = C(1094, 100) / C(1100, 100) = 0.5637..."""
    labels = [1] * 95 + [0] * 100
    exact = comb(1094, 100) / comb(1100, 100)
    assert exact == pytest.approx(0.5637020164985, abs=1e-12)
    assert h0_p_value(labels, 1195, 0.95) == pytest.approx(exact, rel=1e-12)


def test_smallest_p_is_found_at_the_ends_of_runs_of_excludes():
    """The shortcut (only samples that end just before an include, and all records) gives the
    smallest p over every sample."""
    from scipy.stats import hypergeom

    rng = np.random.default_rng(7)
    for _ in range(30):
        n_seen = int(rng.integers(5, 200))
        total = n_seen + int(rng.integers(0, 500))
        labels = (rng.random(n_seen) < np.linspace(0.5, 0.0, n_seen)).astype(int)
        for missed in (1, 2, 5):
            if missed > total - n_seen:
                continue
            rev = labels[::-1]
            brute = min(hypergeom.cdf(rev[:n].sum(), total - n_seen + n, rev[:n].sum() + missed, n)
                        for n in range(1, n_seen + 1))
            assert _p_missed(labels, total, missed) == pytest.approx(brute, rel=1e-9, abs=1e-300)


def test_hypergeometric_cdf_equals_scipy():
    from scipy.stats import hypergeom

    rng = np.random.default_rng(11)
    total = rng.integers(2, 200_000, 3000)
    good = np.array([rng.integers(0, min(t, 3000) + 1) for t in total])
    draws = np.array([rng.integers(1, t + 1) for t in total])
    k = np.array([rng.integers(0, min(d, g) + 1) for d, g in zip(draws, good)])
    ours, theirs = hypergeom_cdf(k, total, good, draws), hypergeom.cdf(k, total, good, draws)
    assert np.allclose(ours, theirs, rtol=1e-8, atol=5e-9)
    # below the smallest possible count, none; no success in the population, certain; every item drawn
    assert hypergeom_cdf(0, 10, 8, 5)[0] == 0.0  # at least 3 successes in any 5 of 10 holding 8
    assert hypergeom_cdf(0, 10, 0, 5)[0] == 1.0
    assert hypergeom_cdf([2, 3], 10, 3, 10).tolist() == [0.0, 1.0]


def test_estimate_fields():
    labels = [1] * 95 + [0] * 100
    est = stopping_estimate(labels, 1195)
    assert (est.total, est.screened, est.includes_found) == (1195, 195, 95)
    assert est.target_reached is False
    assert est.includes_left_upper == 30
    assert est.recall_lower == pytest.approx(95 / 125)
    assert "Callaghan" in est.method
    d = est.to_dict()
    assert set(d) >= {"p_value", "includes_left_upper", "recall_lower", "target_reached", "method"}


def test_everything_screened_and_nothing_screened():
    done = stopping_estimate([1, 0, 0, 1], 4)
    assert done.includes_left_upper == 0 and done.target_reached and done.p_value == 0.0
    none = stopping_estimate([], 100)
    assert none.p_value == 1.0 and none.includes_left_upper == 100 and none.recall_lower is None


def test_more_screening_without_includes_lowers_p():
    ps = [h0_p_value([1] * 40 + [0] * n, 3000) for n in (50, 200, 800)]
    assert ps[0] > ps[1] > ps[2]


def test_bad_arguments():
    with pytest.raises(ValueError, match="smaller than"):
        stopping_estimate([1, 0, 1], 2)
    with pytest.raises(ValueError, match="0 \\(exclude\\) or 1"):
        stopping_estimate([1, 2], 10)
    with pytest.raises(ValueError, match="recall_target"):
        stopping_estimate([1, 0], 10, recall_target=1.5)
    with pytest.raises(ValueError, match="confidence"):
        stopping_estimate([1, 0], 10, confidence=1.0)
