"""The bundled monitored analyses (os, pfs, os_acquired) against metafor and rpact, on inputs derived
without livemeta (issue 23).

reference/derive_monitoring_inputs.py reads data/studies and queries/analyses.yaml (PyYAML, the row
selection of tests/analysis/reference/derive_inputs.py) into reference/monitoring_inputs.csv;
reference/make_monitoring_reference.R computes every trial sequential analysis with metafor (the
cumulative DL or FE fits, D2, I2) and rpact (the boundaries, the alpha-preserving final analysis)
into reference/monitoring_reference.json: for each analysis, adjustment (D2, I2, none) and over-run
rule, at the analyses file's target and at the pooled CI limit.

Tolerances: 1e-10 for the closed-form numbers (the FE and DL fits, information, fractions), 1e-6 for
the boundaries (iterative), exact for the looks, the crossings and the conclusions.
"""

from __future__ import annotations

import ast
import csv
import importlib.util
import io
import json
import math
import subprocess
import tarfile
from pathlib import Path

import numpy as np
import pytest

from livemeta import api
from tests.conftest import REPO

REF = Path(__file__).parent / "reference"
REFERENCE = json.loads((REF / "monitoring_reference.json").read_text())
CASES = REFERENCE["cases"]
CLOSED = 1e-10
ITERATIVE = 1e-6


def _module():
    spec = importlib.util.spec_from_file_location("derive_monitoring_inputs", REF / "derive_monitoring_inputs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_grid_is_complete():
    assert len(CASES) == 18 == REFERENCE["grid"]["n_cases"]
    assert {(c["analysis"], c["heterogeneity"], c["overrun"]) for c in CASES} == {
        (a, h, o) for a in ("os", "pfs", "os_acquired") for h in ("D2", "I2", "none")
        for o in ("alpha_preserving", "final_boundary")}


def test_the_derivation_imports_no_livemeta_module():
    tree = ast.parse((REF / "derive_monitoring_inputs.py").read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "yaml" in names and not any(name.split(".")[0] in ("livemeta", "tests") for name in names)


def test_reference_inputs_are_the_independent_derivation(tmp_path):
    """If data/studies or analyses.yaml changes: derive_monitoring_inputs.py, then the R script."""
    tar = subprocess.run(["git", "-C", str(REPO), "archive", "HEAD", "livemeta.yaml", "data", "queries"],
                         capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as fh:
        fh.extractall(tmp_path, filter="data")
    derived = _module().derive(tmp_path)
    with open(REF / "monitoring_inputs.csv", newline="", encoding="utf-8") as fh:
        assert [{k: str(v) for k, v in row.items()} for row in derived] == list(csv.DictReader(fh))


def _check(mon, ref, measure="HR"):
    assert list(mon.looks) == ref["looks"] and mon.k.tolist() == ref["k"]
    assert mon.model == ref["model"]
    assert mon.adjustment == pytest.approx(ref["adjustment"], abs=CLOSED)
    assert mon.required_information_adjusted == pytest.approx(ref["required_information"], rel=CLOSED)
    np.testing.assert_allclose(mon.information, ref["information"], rtol=CLOSED)
    np.testing.assert_allclose(mon.fraction, ref["fraction"], rtol=CLOSED)
    np.testing.assert_allclose(mon.estimate, ref["estimate"], rtol=CLOSED, atol=CLOSED)
    np.testing.assert_allclose(mon.se, ref["se"], rtol=CLOSED)
    np.testing.assert_allclose(mon.z, ref["z"], rtol=CLOSED)
    bound = np.array([math.nan if b is None else b for b in ref["bound"]], dtype=float)
    np.testing.assert_allclose(mon.efficacy_bound, bound, atol=ITERATIVE)  # NaN (not tested) at the same looks
    assert list(mon.crossed) == ref["crossed"]
    first = next((f"{c} at look {lk}" for c, lk in zip(mon.crossed, mon.looks) if c), "")
    assert first == ref["first_crossed"]
    final = None if mon.overrun_look is None or mon.overrun != "alpha_preserving" else mon.looks[mon.overrun_look]
    assert final == ref.get("final_look")


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_monitoring_equals_metafor_and_rpact(bundled_db, case):
    het = case["heterogeneity"]
    _spec, _rev, run, _table = api.monitor(bundled_db, case["analysis"], heterogeneity=het, overrun=case["overrun"])
    _check(run.main, case["at_target"])
    assert math.exp(run.ci_limit) == pytest.approx(case["at_target"]["ci_limit"], rel=CLOSED)
    assert math.exp(run.at_ci_limit.target) == pytest.approx(case["at_ci_limit"]["target"], rel=CLOSED)
    _check(run.at_ci_limit, case["at_ci_limit"])


def test_the_bundled_conclusions(bundled_db, bundled_report):
    """With the analyses file's settings (D2 with its DL z-curve, alpha-preserving over-run): OS crosses
    its efficacy boundary at the 2024 look (the final analysis, |z| 2.44 >= 2.30); PFS does not (DL z
    -1.84 against -1.96 at the final analysis), nor does os_acquired (71% of the required
    information). So the stored results, the CLI and the report say."""
    expected = {"os": ("efficacy", "efficacy boundary crossed at look 2024"),
                "pfs": ("", "required information reached at look 2024 without crossing a boundary (final analysis)"),
                "os_acquired": ("", "no boundary crossed; 71% of the required information")}
    ref = {c["analysis"]: c["at_target"] for c in CASES if (c["heterogeneity"], c["overrun"]) == ("D2", "alpha_preserving")}
    for analysis, (crossed, conclusion) in expected.items():
        _spec, _rev, run, _table = api.monitor(bundled_db, analysis)
        assert run.main.conclusion == conclusion
        assert (ref[analysis]["first_crossed"].split(" ")[0] if ref[analysis]["first_crossed"] else "") == crossed
    z = {c["analysis"]: c["at_target"]["z"][-1] for c in CASES if c["id"].endswith("D2/alpha_preserving")}
    assert round(z["pfs"], 2) == -1.84 and round(z["os_acquired"], 2) == -1.62
    stored = dict(api.query(bundled_db, "select analysis_id, monitoring_crossed from pooled_estimates "
                                        "where stratum = 'overall' and monitoring_spec is not null").rows)
    assert stored == {a: c for a, (c, _) in expected.items()}
    text = (bundled_report / "index.html").read_text()
    sections = {a: text[text.index(f'id="a-{a}"'):].split("<h2")[0] for a in ("os", "pfs", "os_acquired")}
    for analysis, (_, conclusion) in expected.items():
        assert f"At the target, HR 0.80: {conclusion}" in sections[analysis]
    assert "efficacy boundary crossed" not in sections["pfs"]
    # os_acquired crosses only at the most favourable effect its pooled CI allows (HR 0.71), shown as such
    assert "At the 95% CI limit of the pooled DL estimate, HR 0.71: efficacy boundary crossed" in sections["os_acquired"]
