"""Helpers shared by the reference tests of issue 12 (metareg, influence, sequential, hr).

The JSON files are written by the R scripts next to them
(tests/pooling/reference/*.R via json_writer.R): R's NA is ``null``, NaN and
infinities are strings.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

REFERENCE_DIR = Path(__file__).parent / "reference"


def load_reference(name: str) -> dict:
    """The committed reference ``tests/pooling/reference/<name>``."""
    return json.loads((REFERENCE_DIR / name).read_text())


def to_float(x):
    """JSON value (or nested list) -> float / float array; null -> nan."""
    if isinstance(x, list):
        return np.array([to_float(e) for e in x], dtype=float)
    if x is None:
        return math.nan
    if isinstance(x, str):
        return float(x.replace("Inf", "inf"))
    return float(x)


def rel_err(ours, ref) -> float:
    """max |ours - ref| / max(1, |ref|); nan must sit at the same places in both."""
    ours = np.atleast_1d(np.asarray(ours, dtype=float))
    ref = np.atleast_1d(np.asarray(to_float(ref) if not isinstance(ref, np.ndarray) else ref, dtype=float))
    assert ours.shape == ref.shape, (ours, ref)
    assert (np.isnan(ours) == np.isnan(ref)).all(), (ours, ref)
    if ours.size == 0:
        return 0.0
    with np.errstate(invalid="ignore"):
        e = np.abs(ours - ref) / np.maximum(1.0, np.abs(ref))
    e = np.where(np.isnan(ref) | (ours == ref), 0.0, e)
    return float(np.max(e))


def check_grid(ref: dict, min_counts: dict, *, kind_key: str = "kind") -> dict:
    """Guard: case counts per kind equal the header's and never fall below ``min_counts``;
    ids are unique.  Returns the counts."""
    counts: dict = {}
    for c in ref["cases"]:
        counts[c[kind_key]] = counts.get(c[kind_key], 0) + 1
    assert counts == ref["grid"]["counts"]
    for kind, n in min_counts.items():
        assert counts.get(kind, 0) >= n, (kind, counts.get(kind, 0), n)
    assert len({c["id"] for c in ref["cases"]}) == len(ref["cases"])
    return counts
