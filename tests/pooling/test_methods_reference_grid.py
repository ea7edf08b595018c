"""Guard: the methods reference grid (methods_reference.json) must not shrink.

The file is written by tests/pooling/reference/make_reference_methods.R; if a
case is removed there, these counts fail and the removal must be deliberate.
"""

import json
import math
from pathlib import Path

REF_PATH = Path(__file__).parent / "reference" / "methods_reference.json"
REF = json.loads(REF_PATH.read_text())

MIN_GROUP_COUNTS = {
    "escalc": 16, "proportions": 6, "mh": 9, "peto": 3, "subgroups": 9,
    "leave1out": 4, "cumul": 4, "egger": 6, "trimfill": 6,
}
MIN_CASES = sum(MIN_GROUP_COUNTS.values())  # 63


def test_grid_has_not_shrunk():
    cases = REF["cases"]
    assert REF["n_cases"] == len(cases) >= MIN_CASES
    counts = {}
    for c in cases:
        counts[c["group"]] = counts.get(c["group"], 0) + 1
    assert counts == REF["group_counts"]
    for group, n in MIN_GROUP_COUNTS.items():
        assert counts.get(group, 0) >= n, group


def test_cases_are_documented_and_unique():
    ids = [c["id"] for c in REF["cases"]]
    assert len(ids) == len(set(ids))
    for c in REF["cases"]:
        assert c["call"].strip() and c["values"], c["id"]


def _numbers(x):
    if isinstance(x, dict):
        for v in x.values():
            yield from _numbers(v)
    elif isinstance(x, list):
        for v in x:
            yield from _numbers(v)
    elif isinstance(x, float):
        yield x


def test_numbers_are_finite_and_written_at_full_precision():
    assert all(math.isfinite(v) for v in _numbers(REF))
    text = REF_PATH.read_text()
    # %.17g: dat.bcg study 1 log RR is written with 17 significant digits
    assert "-0.88931133392020523" in text
