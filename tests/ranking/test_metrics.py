"""WSS and recall as ASReview Insights defines them: equal to the values Insights itself computed
(reference/insights_metrics.json, made by reference/make_insights_metrics.py with asreview-insights
1.6.1), bit for bit, and to hand-worked cases."""

from __future__ import annotations

import json

import pytest

from livemeta.ranking import metrics
from tests.conftest import REPO

REF = json.loads((REPO / "tests/ranking/reference/insights_metrics.json").read_text())
SEQUENCES = REF["sequences"]


def test_the_reference_is_insights_own():
    assert REF["asreview_insights_version"] == "1.6.1"
    assert REF["generator"] == "tests/ranking/reference/make_insights_metrics.py"
    assert len(SEQUENCES) == 14


@pytest.mark.parametrize("case", SEQUENCES, ids=[f"n{len(c['labels'])}-{i}" for i, c in enumerate(SEQUENCES)])
def test_recall_and_wss_equal_insights(case):
    labels = case["labels"]
    for at, value in case["recall"]:
        assert metrics.recall(labels, at) == value, (at, value)
    for at, value in case["wss"]:
        assert metrics.wss(labels, at) == value, (at, value)


def test_a_simulation_scored_by_insights_get_metrics():
    """ASReview's own simulation of nsaids100.csv, scored by Insights' public get_metrics from the
    project file: the labels after the priors, padded with zeros to the records that are not
    priors (the simulation stopped at the last include), give Insights' numbers."""
    sim = REF["simulation"]
    screened = sim["screened"]
    assert [s["row"] for s in screened if s["prior"]] == sim["prior_idx"]
    labels = [s["label"] for s in screened if not s["prior"]]
    labels += [0] * (100 - len(sim["prior_idx"]) - len(labels))
    for at, value in sim["recall"]:
        assert metrics.recall(labels, at) == value
    for at, value in sim["wss"]:
        assert metrics.wss(labels, at) == value
    assert dict(map(tuple, sim["wss"]))[0.95] == pytest.approx(0.5918367, abs=1e-7)


def test_worked_cases():
    # 10 records, includes at positions 1 and 2: recall 1/2 after 10% (1 record), 1 after 25% (2 records)
    labels = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    assert metrics.recall(labels, 0.10) == 0.5
    assert metrics.recall(labels, 0.25) == 1.0
    # random order is expected to find include t at the first position where round(linspace(0, 2, 10))
    # reaches t: [0,0,0,1,1,1,1,2,2,2] -> positions 3 and 7 (0-based); the ranking found them at 0 and
    # 1; WSS@95 is read at t = 1 (1/2 <= 0.95 < 2/2): (3 - 0) / 10
    assert metrics.wss(labels, 0.95) == pytest.approx(0.3)
    assert metrics.wss(labels, 1.0) == pytest.approx(0.6)
    # includes last: negative work saved
    assert metrics.wss([0, 0, 0, 0, 0, 0, 0, 0, 1, 1], 1.0) == pytest.approx(-0.2)
    # below the first position, recall is 0 by definition
    assert metrics.recall([1, 0, 0], 0.2) == 0.0


def test_no_include_is_undefined():
    with pytest.raises(metrics.UndefinedMetric):
        metrics.wss([0, 0, 0], 0.95)
    with pytest.raises(metrics.UndefinedMetric):
        metrics.recall([0, 0], 0.1)
    with pytest.raises(ValueError, match="0 or 1"):
        metrics.wss([0, 2, 1], 0.95)
