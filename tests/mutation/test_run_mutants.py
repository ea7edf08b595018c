"""The mutation script's patches still apply to the code (running it takes ~1.5 min: see
run_mutants.py; its result is reported when the mutants change)."""

from __future__ import annotations

import pytest

from .run_mutants import MUTANTS, ROOT


def test_the_listed_mutants_are_the_issues():
    assert len(MUTANTS) == 14 and len({m.name for m in MUTANTS}) == 14


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_each_patch_applies_to_the_code_once(mutant):
    original = (ROOT / mutant.path).read_text(encoding="utf-8")
    mutated = mutant.patch(original)  # raises when the pattern is gone or ambiguous
    assert mutated != original
    assert (ROOT / mutant.tests[0]).is_file()
