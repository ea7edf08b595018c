"""Fixtures of the importer tests: the real ClinicalTrials.gov records of fixtures/ (see its README).

``resolve`` reads a record path (``resultsSection.adverseEventsModule.seriousEvents[0].stats[1]``)
straight from the JSON, independently of the importer, so that tests can check every number a
draft cites against the record itself. ``fill`` fills a draft's FILL IN lines the way an extractor
would, by editing the text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RECORDS = ("NCT02210780", "NCT02552212", "NCT05594173", "NCT02028676")

#: what an extractor would fill in for each fixture: the role of arms the registry leaves open, by arm id
ROLES = {
    "NCT02210780": {"placebo_qw": "control", "dupilumab_300_mg_qw": "experimental"},
    "NCT02552212": {},
    "NCT05594173": {},
    "NCT02028676": {},
}


def record_path(nct: str) -> Path:
    return FIXTURES / f"{nct}.json"


def load_record(nct: str) -> dict:
    return json.loads(record_path(nct).read_text(encoding="utf-8"))


def resolve(record: dict, path: str):
    """The value at a dotted record path with [i] indices; KeyError/IndexError when absent."""
    node = record
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        node = node[int(part[1:-1])] if part.startswith("[") else node[part]
    return node


def fill(text: str, roles: dict[str, str]) -> tuple[str, list[str]]:
    """The draft with every FILL IN line filled (role from ``roles``, treatment_class none for a
    control arm, other otherwise); also the draft paths filled, in order."""
    out, filled = [], []
    in_arms, arm, index, role = False, None, -1, None
    for line in text.splitlines():
        if re.match(r"^[a-z_]+:", line):
            in_arms = line.startswith("arms:")
        if in_arms and line.startswith("  - id: "):
            arm, index, role = line.split(": ", 1)[1], index + 1, None
        if in_arms and re.match(r"^    role: (experimental|control|single)\b", line):
            role = line.split(": ", 1)[1].split()[0]
        if "# FILL IN" in line and not line.startswith("#"):
            if re.match(r"^    role: null\b", line):
                role = roles[arm]
                line = line.replace("role: null", f"role: {role}", 1)
                filled.append(f"arms[{index}].role")
            elif re.match(r"^    treatment_class: null\b", line):
                line = line.replace("treatment_class: null", f"treatment_class: {'none' if role == 'control' else 'other'}", 1)
                filled.append(f"arms[{index}].treatment_class")
            else:
                raise AssertionError(f"a FILL IN line this test cannot fill: {line}")
        out.append(line)
    return "\n".join(out) + "\n", filled


@pytest.fixture(scope="session")
def drafts():
    """The draft of every fixture record."""
    from livemeta.importers.ctgov import draft_from_record

    return {n: draft_from_record(load_record(n), origin=f"{n}.json") for n in RECORDS}


@pytest.fixture(scope="session")
def filled_files(drafts, tmp_path_factory):
    """Every draft filled in and written as a study file."""
    folder = tmp_path_factory.mktemp("filled")
    paths = {}
    for n, d in drafts.items():
        text, _ = fill(d.text, ROLES[n])
        paths[n] = folder / f"{n}.yaml"
        paths[n].write_text(text, encoding="utf-8")
    return paths
