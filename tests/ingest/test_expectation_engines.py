"""The expectation suites give the same answers through livemeta's fast evaluator and through
great-expectations itself: row for row, over the bad-input corpus, the bundled study files and
generated batches with values pushed onto and across every bound the suites check."""

from __future__ import annotations

import copy
import random

import pytest

from livemeta.ingest import _prepare
from livemeta.ingest.expectations import SUITES, check_batch, suite_definition
from livemeta.ingest.synthetic import study
from livemeta.ingest.parse import StudyBlob

import yaml

from tests.conftest import REPO

from .conftest import BASE, HERE, TEMPLATE

BAD = sorted(p for p in (HERE / "bad").iterdir() if p.name != "expected.yaml")


def _both(batch):
    fast = [(p.file, p.path, p.reason) for p in check_batch(batch, "fast")]
    gx = [(p.file, p.path, p.reason) for p in check_batch(batch, "gx")]
    return fast, gx


def _batch(paths):
    _, _, batch = _prepare(paths)
    return batch


def test_every_suite_uses_only_what_the_fast_engine_evaluates():
    from livemeta.ingest.expectations import _FAST

    types = {e["type"] for name in SUITES for e in suite_definition(name)["expectations"]}
    assert types <= _FAST, types - _FAST
    assert len(types) == 4


def test_the_engines_agree_on_the_bad_files():
    """Every bad file that reaches the suites (the others are refused before them, at parse or
    structure), in one batch: great-expectations' cost is per batch, so one batch of all takes a
    tenth of the time one batch each took. Each file's own failures (the fast engine, the file
    alone) are among the batch's, so the batch exercises every file's rule; the batch adds only
    what files of one trial have against each other."""
    reaching, alone = [], set()
    for path in BAD:
        batch = _batch([path])
        if batch is None:
            continue
        reaching.append(path)
        alone |= {(p.file, p.path, p.reason) for p in check_batch(batch, "fast")}
    fast, gx = _both(_batch(reaching))
    assert fast == gx
    assert alone <= set(fast)
    assert len(reaching) >= 40 and len({file for file, _, _ in alone}) >= 30


def test_the_engines_agree_on_the_bundled_files_and_the_template():
    batch = _batch(sorted((REPO / "data" / "studies").glob("*.yaml")) + [TEMPLATE, BASE])
    fast, gx = _both(batch)
    assert fast == gx == []


#: (list, field): numbers the suites bound, pushed onto and across those bounds
_EDITS = [
    ("outcomes", "estimate"), ("outcomes", "ci_low"), ("outcomes", "ci_high"), ("outcomes", "experimental_events"),
    ("outcomes", "experimental_n"), ("outcomes", "control_events"), ("outcomes", "control_n"), ("outcomes", "p_value"),
    ("outcomes", "experimental_median"), ("outcomes", "control_median"), ("adverse_events", "subjects_affected"),
    ("adverse_events", "subjects_at_risk"), ("adverse_events", "percent"), ("arms", "n_randomised"),
    ("arms", "n_safety"), ("resistance_definitions", "threshold"), ("trial", "randomised_n"),
]


def _perturbed(rng: random.Random, i: int) -> bytes:
    d = copy.deepcopy(study(i))
    for _ in range(rng.randint(1, 4)):
        where, field = rng.choice(_EDITS)
        items = [d["trial"]] if where == "trial" else (d.get(where) or [])
        if not items:
            continue
        item = rng.choice(items)
        old = item.get(field)
        base = old if isinstance(old, (int, float)) and not isinstance(old, bool) else 10
        choice = rng.choice(["same", "zero", "neg", "big", "null", "plus1", "minus1", "other"])
        value = {"same": base, "zero": 0, "neg": -1, "big": base * 10 + 1, "null": None,
                 "plus1": base + 1, "minus1": base - 1, "other": rng.choice([0.5, 1, 2, 99, 100, 101])}[choice]
        if isinstance(old, int) and isinstance(value, float) and value.is_integer():
            value = int(value)
        item[field] = value
    return yaml.safe_dump(d, sort_keys=False).encode()


def test_the_engines_agree_on_generated_batches():
    """Two batches of a hundred perturbed study files (great-expectations' cost is per batch, not per
    row: fewer, larger batches compare as many failures, about 300 with over 200 distinct reasons,
    in half the time ten batches of twenty took, a sixth of forty batches of five)."""
    rng = random.Random(20261126)
    compared = 0
    found, reasons = 0, set()
    for round_ in range(2):
        blobs = [StudyBlob(f"gen-{round_}-{k}.yaml", _perturbed(rng, 100 * round_ + k)) for k in range(100)]
        batch = _batch(blobs)
        if batch is None:
            continue
        fast, gx = _both(batch)
        assert fast == gx, (round_, set(fast) ^ set(gx))
        compared += 1
        found += len(fast)
        reasons |= {reason for _, _, reason in fast}
    assert compared == 2 and found >= 250 and len(reasons) >= 150  # the generated batches reach the suites' bounds
