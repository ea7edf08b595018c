"""Every committed R reference file records the R and package versions it was made with, and they are
the pinned ones (tests/reference/regenerate.py, PINNED): a reference regenerated under another R,
metafor, metadat, Matrix, rpact or calcTE is noticed here, and regenerate.py covers every file."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.reference.regenerate import PINNED, REFERENCES

FILES = sorted(p.relative_to(REPO).as_posix() for p in REPO.glob("tests/**/reference/*_reference.json"))


def test_regenerate_covers_every_reference_file():
    made = {path for ref in REFERENCES for path in ref.outputs}
    assert len(FILES) == 12
    assert made == set(FILES) | {"tests/analysis/reference/bundled_inputs.csv", "tests/living/reference/monitoring_inputs.csv"}


@pytest.mark.parametrize("path", FILES)
def test_versions_are_the_pinned_ones(path):
    ref = json.loads((REPO / path).read_text())
    recorded = {key.removesuffix("_version"): value for key, value in ref.items() if key.endswith("_version")}
    assert recorded.pop("R") == PINNED["R"]
    assert recorded == {name: PINNED[name] for name in recorded}, "a version differs from the pinned one"
    script = (REPO / ref["generator"]).read_text()
    loaded = set(re.findall(r"library\((\w+)\)", script))
    assert loaded <= set(recorded), f"{ref['generator']} loads {sorted(loaded)}, {path} records {sorted(recorded)}"
    if "metafor" in loaded:  # metafor attaches its data sets and Matrix: recorded with it
        assert {"metadat", "Matrix"} <= set(recorded)
    if "calcTE" in ref:  # sourced from a checkout, not a package: its commit
        assert ref["calcTE"]["commit"] == PINNED["calcTE"]


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="needs R with metafor (CI checks the committed files above)")
def test_the_bundled_reference_regenerates_identically():
    """Where R is installed: the independent inputs and metafor's pooling of them, made again, equal
    the committed files byte for byte (the other references take minutes: run regenerate.py)."""
    done = subprocess.run([sys.executable, str(REPO / "tests/reference/regenerate.py"), "--only", "bundled"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 of 2 reference files identical" in done.stdout
