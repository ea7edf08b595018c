"""The fast paths of reading a study file give what the careful paths give (issue 15).

- YAML: plain files (no anchor, alias or tag; shallow) are composed by libyaml and turned into data
  in one pass (``parse_plain_yaml``); everything else, and every error, goes through the hardened
  loader (``parse_yaml``). Same data, same float texts, same lines (found when a message needs them).
- JSON Schema: a file fastjsonschema finds valid is valid; an invalid one goes to jsonschema for its
  messages. Same verdicts.
"""

from __future__ import annotations

import copy
import json
import random

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livemeta.ingest.parse import parse_file, parse_plain_yaml, parse_yaml, read_study
from livemeta.ingest.structure import _validator, schema_valid
from livemeta.ingest.synthetic import mixed_study, study

from tests.conftest import REPO

from .conftest import HERE

FILES = sorted((REPO / "data" / "studies").glob("*.yaml")) + sorted((HERE / "bad").glob("*.yaml")) + [
    REPO / "ingest" / "template.yaml", HERE / "base.yaml"]


def _same_parse(text: str) -> bool:
    """Whether the fast path (when it takes the text) gives parse_yaml's data, float texts and
    lines; returns whether it took it."""
    fast = parse_plain_yaml(text)
    try:
        want = parse_yaml(text)
    except Exception:
        assert fast is None or fast[0] is None  # an error: the fast path declines (or reads nothing)
        return False
    if fast is None:
        return False
    assert _plain(fast[0]) == _plain(want[0]) and fast[1] == want[2]
    assert [type(x) for x in _leaves(fast[0])] == [type(x) for x in _leaves(want[0])]
    return True


def _plain(x):
    """Data with the parser's markers (a too-long integer) as comparable values."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_plain(v) for v in x]
    if hasattr(x, "text") and not isinstance(x, (str, float)):
        return (type(x).__name__, x.text)
    return x


def _leaves(x):
    if isinstance(x, dict):
        for v in x.values():
            yield from _leaves(v)
    elif isinstance(x, list):
        for v in x:
            yield from _leaves(v)
    else:
        yield x


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_files_read_the_same_by_both_yaml_paths(path):
    text = path.read_text(encoding="utf-8", errors="replace")
    _same_parse(text)
    study, problems = read_study(path)
    if study is not None:  # lines found when a message needs them equal the lines parse_yaml records
        study.line_of("trial.id")
        assert study.lines == parse_yaml(text)[1] and study.lines_later is None


def test_generated_files_take_the_fast_path():
    for i in range(1, 40):
        for d in (mixed_study(i), study(i)):
            assert _same_parse(yaml.safe_dump(d, sort_keys=False, allow_unicode=True))


def test_what_yaml_11_reads_as_numbers_stays_as_the_careful_loader_reads_it():
    values = ["yes", "No", "on", "OFF", "~", "null", "", "012", "0x1f", "0b1", "1:20", "1:20.5", "1_000", "1e3", ".inf", "-.Inf",
              ".nan", "2023-10-01", "2023-10-01 10:00:00", "=", "3.", "+1", "-0", "0.70", "1e-3", "99999999999999999999",
              "'quoted'", '"x\\ty"', "|\n  block\n  text", ">\n  folded"]
    took = 0
    for v in values:
        took += _same_parse(f"a: {v}\nb:\n  - {v}\n  - c: {v}\n")
    assert took >= 20  # most take the fast path (".nan", "=" and alike decline: the careful loader decides)


def test_anchors_aliases_tags_depth_and_duplicates_go_to_the_careful_loader():
    for text in ("a: &x 1\nb: *x\n", "a: !!str 1\n", "a: 1\na: 2\n", "<<: {a: 1}\n", "? [1]\n: 2\n",
                 "a:" + " [" * 70 + " ]" * 70 + "\n", "\n".join(" " * (2 * i) + f"k{i}:" for i in range(70)) + " 1\n",
                 "a: 1\n---\nb: 2\n", "a: [1, 2\n", "1: x\n"):
        assert parse_plain_yaml(text) is None, text


@given(st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(min_size=1, max_size=8), children,
                                                                      max_size=4),
    max_leaves=25))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_dumped_data_reads_the_same(data):
    _same_parse(yaml.safe_dump({"trial": data}, allow_unicode=True))
    _same_parse(yaml.safe_dump({"trial": data}, default_flow_style=True))


def _mutations(d: dict, rng: random.Random):
    """Valid study data, changed one way each: a key dropped or added, a value of another type, a
    pattern broken at its end, an enum misspelt."""
    paths = []

    def walk(x, parts):
        if isinstance(x, dict):
            for k, v in x.items():
                paths.append([*parts, k])
                walk(v, [*parts, k])
        elif isinstance(x, list):
            for i, v in enumerate(x):
                paths.append([*parts, i])
                walk(v, [*parts, i])

    walk(d, [])
    for path in rng.sample(paths, min(40, len(paths))):
        for change in ("drop", "extra", "type", "newline", "case", "null", "float", "bool"):
            m = copy.deepcopy(d)
            parent = m
            for p in path[:-1]:
                parent = parent[p]
            key = path[-1]
            value = parent[key]
            if change == "drop":
                if isinstance(parent, dict):
                    del parent[key]
                else:
                    parent.pop(key)
            elif change == "extra":
                if isinstance(value, dict):
                    value["unknown_key"] = 1
                else:
                    continue
            elif change == "type":
                parent[key] = [value] if not isinstance(value, list) else {"x": value}
            elif change == "newline":
                if not isinstance(value, str):
                    continue
                parent[key] = value + "\n"
            elif change == "case":
                if not isinstance(value, str):
                    continue
                parent[key] = value.upper()
            elif change == "null":
                parent[key] = None
            elif change == "float":
                parent[key] = 1.0 if isinstance(value, int) and not isinstance(value, bool) else 2.5
            elif change == "bool":
                parent[key] = True
            yield m


def test_both_schema_validators_give_the_same_verdicts():
    rng = random.Random(15)
    checked = invalid = 0
    validator = _validator()
    docs = [mixed_study(i) for i in (1, 2, 3, 7)] + [study(1)]
    docs += [json.loads(json.dumps(parse_file(p).data)) for p in FILES[:12] if read_study(p)[0] is not None]
    for d in docs:
        for m in [d, *_mutations(d, rng)]:
            want = not any(True for _ in validator.iter_errors(m))
            assert schema_valid(m) == want, m
            checked += 1
            invalid += not want
    assert checked > 3000 and invalid > 2000  # (4,242 documents, 3,321 of them invalid, with these seeds)
