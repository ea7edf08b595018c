"""Cohen's kappa of the view screening_agreement against R's psych::cohen.kappa
(tests/screening/reference/kappa_reference.json, made by make_kappa_reference.R from kappa_pairs.csv)
and against kappas computed by hand: the fixtures' Rayyan export (0.5) and a two-category table of
50 records (20 / 5 / 10 / 15: 0.4)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from livemeta.db import apply_migrations, install_views, new_revision
from livemeta.screening.files import Decision, Protocol
from livemeta.screening.replay import FrontPlan, write_front
from livemeta.search.records import make_record
from livemeta.search.runs import SearchRun

REFERENCE = Path(__file__).parent / "reference"
PAIRS: dict[str, list[tuple[str, str]]] = {}
for row in csv.DictReader((REFERENCE / "kappa_pairs.csv").open()):
    PAIRS.setdefault(row["dataset"], []).append((row["first"], row["second"]))
CASES = {c["dataset"]: c for c in json.loads((REFERENCE / "kappa_reference.json").read_text())["cases"]}
BY_HAND = {"rayyan_tinea_ta": 0.5, "two_categories": 0.4}


def agreement(pairs: list[tuple[str, str]], stage: str = "ta"):
    """screening_agreement of a database whose one search run has a record per pair, decided by
    two reviewers as the pair says (written by the replay's own writer)."""
    con = duckdb.connect()
    apply_migrations(con)
    install_views(con)
    rev = new_revision(con, author="t", message="kappa", kind="ingest", files=[])
    n = len(pairs)
    run = SearchRun("run", "Test", "q", "2026-01-01", [{"name": "x.csv", "format": "csv", "sha256": "0" * 64, "records": n}],
                    None, [make_record(i, title=f"Record number {i}") for i in range(1, n + 1)])
    t0 = dt.datetime(2026, 3, 1, 9)
    decisions = {
        f"screening/decisions/{who}.csv": [
            Decision(f"run/{i}", stage, pair[k], "wrong_population" if stage == "ft" and pair[k] == "exclude" else None,
                     who, t0 + dt.timedelta(minutes=k), file=f"screening/decisions/{who}.csv")
            for i, pair in enumerate(pairs, 1)]
        for k, who in enumerate(("first", "second"))}
    plan = FrontPlan("searches", "screening", touched=True, runs={"run": (run, "searches/run", "x")},
                     protocol=Protocol({"ta": 2, "ft": 2}, {"wrong_population": "x"}), decisions=decisions)
    write_front(con, plan, rev, trials_changed=False)
    rows = con.execute("SELECT stage, pairs, observed, expected, kappa FROM screening_agreement").fetchall()
    return rows


@pytest.mark.parametrize("dataset", sorted(CASES))
def test_kappa_equals_psych(dataset):
    ref = CASES[dataset]
    ((stage, pairs, observed, expected, kappa),) = agreement(PAIRS[dataset])
    assert (stage, pairs) == ("ta", ref["pairs"])
    assert observed == pytest.approx(ref["observed"], abs=1e-12)
    assert expected == pytest.approx(ref["expected"], abs=1e-12)
    assert kappa == pytest.approx(ref["kappa"], abs=1e-12)
    if dataset in BY_HAND:
        assert kappa == pytest.approx(BY_HAND[dataset], abs=1e-12)


def test_kappa_per_stage_and_undefined_without_disagreement_by_chance():
    ((stage, pairs, observed, expected, kappa),) = agreement([("include", "include")] * 3, stage="ft")
    assert (stage, pairs, observed, expected, kappa) == ("ft", 3, 1.0, 1.0, None)  # chance agreement 1: not defined
