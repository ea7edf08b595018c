"""The ranking API the screening commands call: rank(records, labels) -> the unlabelled records,
likeliest include first, with scores and the stopping estimate."""

from __future__ import annotations

import subprocess
import sys

import pytest

from livemeta.ranking import Ranker, Record, rank, stopping_estimate
from livemeta.ranking.dataset import read_labelled_csv
from tests.conftest import REPO

DATA = read_labelled_csv(REPO / "tests/ranking/data/nsaids100.csv")
TRUTH = dict(zip(DATA.ids, DATA.labels.tolist()))
LABELS = {15: 1, 1: 0, 24: 1, 2: 0}  # two includes, two excludes, in decision order


@pytest.fixture(scope="module")
def ranker():
    return Ranker(DATA.records, seed=0)


def test_includes_come_first(ranker):
    r = ranker.rank(LABELS)
    assert len(r.order) == 96 and not set(r.order) & set(LABELS)
    assert sorted(r.order) == sorted(set(DATA.ids) - set(LABELS))
    top = [TRUTH[i] for i in r.order[:10]]
    # 14 includes among 96 unlabelled records: 1.5 expected in 10 drawn at random
    assert sum(top) == 6
    assert r.order[:2] == [16, 19]
    assert (r.includes, r.excludes) == (2, 2)
    assert r.scores == sorted(r.scores, reverse=True)
    assert "linear SVM" in r.model


def test_the_order_is_deterministic(ranker):
    again = Ranker(DATA.records, seed=0).rank(LABELS)
    first = ranker.rank(LABELS)
    assert again.order == first.order and again.scores == first.scores


def test_mappings_are_records_too():
    dicts = [{"record_id": r.record_id, "title": r.title, "abstract": r.abstract, "keywords": "; ".join(r.keywords)}
             for r in DATA.records]
    assert rank(dicts, LABELS).order == rank(DATA.records, LABELS).order


def test_stopping_estimate_reads_the_decision_order(ranker):
    r = ranker.rank(LABELS)
    assert r.stopping == stopping_estimate([1, 0, 1, 0], 100)
    assert r.to_dict()["stopping"]["includes_left_upper"] == r.stopping.includes_left_upper


def test_candidates_narrow_the_order_and_the_stopping_population(ranker):
    full = ranker.rank(LABELS)
    candidates = [i for i in reversed(full.order) if i % 3 == 0]  # 31 records, given in any order
    assert len(candidates) == 31
    r = ranker.rank(LABELS, candidates=candidates)
    # the same model, the same scores: the full order with the other records left out
    assert r.order == [i for i in full.order if i % 3 == 0]
    assert r.scores == [s for i, s in zip(full.order, full.scores) if i % 3 == 0]
    assert r.stopping == stopping_estimate([1, 0, 1, 0], 4 + 31) != full.stopping
    random = ranker.rank({1: 0}, candidates=candidates)
    assert random.scores is None and sorted(random.order) == sorted(candidates)
    with pytest.raises(ValueError, match="record_id 15 is a candidate and has a label"):
        ranker.rank(LABELS, candidates=[15, 3])
    with pytest.raises(KeyError, match="record_id 4000 is not among the records"):
        ranker.rank(LABELS, candidates=[4000])
    assert ranker.rank(LABELS, candidates=[]).order == []


def test_before_any_include_a_seeded_random_order(ranker):
    r = ranker.rank({1: 0, 2: 0})
    assert r.scores is None and r.model.startswith("none yet")
    assert r.order == Ranker(DATA.records, seed=0).rank({1: 0, 2: 0}).order
    assert r.order != Ranker(DATA.records, seed=1).rank({1: 0, 2: 0}).order
    assert sorted(r.order) == sorted(set(DATA.ids) - {1, 2})


def test_one_include_and_no_exclude_uses_presumed_excludes(ranker):
    r = ranker.rank({15: 1})
    assert r.scores is not None
    assert sum(TRUTH[i] for i in r.order[:10]) == 3  # 1.5 expected at random


def test_bad_labels(ranker):
    with pytest.raises(KeyError, match="999"):
        ranker.rank({999: 1})
    with pytest.raises(ValueError, match="a label is 0"):
        ranker.rank({15: 2})
    with pytest.raises(ValueError, match="more than once"):
        Ranker([Record(1, "a"), Record(1, "b")])


def test_records_without_text():
    r = rank([Record(i) for i in range(5)], {0: 1, 1: 0})
    assert sorted(r.order) == [2, 3, 4]


def test_importing_the_package_does_not_import_scikit_learn():
    code = "import sys, livemeta.ranking, livemeta.cli; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
