"""Every pooled value of the bundled evidence base, pinned to metafor on inputs derived without livemeta.

reference/derive_inputs.py reads data/studies and queries/analyses.yaml itself (PyYAML, no livemeta
module) and selects each analysis's rows by the documented rules into reference/bundled_inputs.csv;
reference/make_bundled_reference.R pools them with metafor (versions: tests/reference), with effect
sizes computed in R (qnorm, escalc), into reference/bundled_reference.json. The tests check that the
committed inputs are that derivation of the committed study files, that livemeta's views select the
same rows, and that livemeta's pooled numbers equal metafor's: a bug in a view shows as a mismatch.
Tolerances: 1e-8 for closed-form fits (FE; everything but the iterative tau2 estimators),
1e-6 for REML (iterative Fisher scoring stops at a tau2 change of 1e-5 in metafor and here).
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

import pytest

from livemeta import api
from livemeta.analysis import load_rows, load_specs
from livemeta.db import connect, resolve_revision
from tests.conftest import REPO

REF = Path(__file__).parent / "reference"
REFERENCE = json.loads((REF / "bundled_reference.json").read_text())
CASES = REFERENCE["results"]
ITERATIVE = {"REML", "ML", "PM", "EB", "GLMM"}


@pytest.fixture(scope="module")
def stored(bundled_db):
    from livemeta.analysis import stored_results
    from livemeta.db import current_revision

    with connect(bundled_db, read_only=True) as con:  # as stored for the newest revision, with the trials of each
        df = stored_results(con, current_revision(con), [s.id for s in load_specs()])
    return {(r["analysis_id"], r["stratum"]): r for r in df.to_dict("records")}


def test_reference_grid_is_complete():
    """Guard: every analysis with data has its reference; the grid cannot silently shrink."""
    analyses = {c["analysis"] for c in CASES}
    assert len(CASES) == 27
    assert sum("metareg" in c for c in CASES) == 2
    assert analyses == {
        "os", "os_re", "os_s1800a_80", "os_s1800a_p", "os_reported_intervals", "os_verified_only",
        "os_by_prior_io", "os_by_partner", "pfs", "pfs_re", "pfs_without_keyvibe", "orr",
        "os_acquired", "os_acquired_s1800a_80", "os_acquired_re", "os_by_resistance", "os_by_class",
        "single_arm_orr_by_class", "single_arm_orr_glmm",
    }


def _derive_inputs():
    spec = importlib.util.spec_from_file_location("derive_inputs", REF / "derive_inputs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


DERIVE = _derive_inputs()


@pytest.fixture(scope="module")
def committed(tmp_path_factory):
    """The bundled project's files as committed (HEAD), which the bundled_db fixture is built from."""
    out = tmp_path_factory.mktemp("committed")
    tar = subprocess.run(["git", "-C", str(REPO), "archive", "HEAD", "livemeta.yaml", "data", "queries"],
                         capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as fh:
        fh.extractall(out, filter="data")
    return out


@pytest.fixture(scope="module")
def derived(committed):
    return DERIVE.derive(committed)


def test_the_derivation_imports_no_livemeta_module():
    tree = ast.parse((REF / "derive_inputs.py").read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "yaml" in names and not any(name.split(".")[0] in ("livemeta", "tests") for name in names)
    assert not any(isinstance(n, ast.ImportFrom) and n.level for n in ast.walk(tree))  # no relative import


def test_reference_inputs_are_the_independent_derivation(derived):
    """If data/studies or analyses.yaml changes: derive_inputs.py, then the R script (or
    tests/reference/regenerate.py to see what changes)."""
    with open(REF / "bundled_inputs.csv", newline="", encoding="utf-8") as fh:
        committed_rows = list(csv.DictReader(fh))
    assert [{k: str(v) for k, v in row.items()} for row in derived] == committed_rows


def test_livemeta_selects_the_rows_of_the_independent_derivation(bundled_db, derived):
    """Each analysis pools the trials (and subgroups) the documented rules give, in the same order."""
    with connect(bundled_db, read_only=True) as con:
        for spec in load_specs():
            rows = load_rows(con, spec, None).to_dict("records")
            ours = [(r["trial_id"], str(r[spec.subgroup]) if spec.subgroup else "") for r in rows]
            assert ours == [(r["trial_id"], r["subgroup"]) for r in derived if r["analysis"] == spec.id], spec.id


VIEW_COLUMNS = ("trial_id", "label", "inclusion", "verified", "treatment_class", "derivation", "resistance_category",
                "min_prior_io_months", "prior_io_minimum")


@pytest.mark.parametrize("view", sorted(DERIVE.VIEWS))
def test_every_view_row_is_the_independent_derivation(bundled_db, committed, view):
    """Beyond the analyses' filters: the rows of each analysis view, of every trial (candidates and
    excluded trials too), equal the independent derivation's."""
    ev = DERIVE.Evidence.read(committed / "data" / "studies")
    with connect(bundled_db, read_only=True) as con:
        df = con.execute(f"SELECT * FROM {view}").df()
    cols = [c for c in VIEW_COLUMNS if c in df.columns]
    ours = sorted(tuple(None if r[c] != r[c] else r[c] for c in cols) for r in df.to_dict("records"))  # NaN -> None
    theirs = sorted(tuple(r.get(c) for c in cols) for r in DERIVE.VIEWS[view](ev))
    assert ours == theirs
    assert ours  # every view has rows in the bundled data


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['analysis']}[{c['stratum']}]")
def test_pooled_value_matches_metafor(stored, case):
    row = stored[(case["analysis"], case["stratum"])]
    method = row["method"]
    tol = 1e-6 if method in ITERATIVE else 1e-8
    assert row["k"] == case["k"]
    for key in ("estimate", "se", "ci_low", "ci_high", "p", "tau2", "i2", "q", "q_p"):
        assert row[key] == pytest.approx(case[key], abs=tol, rel=tol), key
    if case["pi_low"] is not None:  # metafor's predict() gives no PI for FE; livemeta's equals the CI there
        assert row["pi_low"] == pytest.approx(case["pi_low"], abs=tol, rel=tol)
        assert row["pi_high"] == pytest.approx(case["pi_high"], abs=tol, rel=tol)
    else:
        assert (row["pi_low"], row["pi_high"]) == (row["ci_low"], row["ci_high"])
    if "q_between" in case:
        assert row["q_between"] == pytest.approx(case["q_between"], abs=1e-8, rel=1e-8)
        assert row["df_between"] == case["df_between"]
        assert row["p_between"] == pytest.approx(case["p_between"], abs=1e-8, rel=1e-8)


# The hand computations that came with the evidence this base was curated from (restated in
# data/README.md, "Judgements recorded"): fixed-effect
# inverse variance on log HR, printed to 3 decimals.
HAND = {
    "os": (0.898, 0.816, 0.988),
    "os_s1800a_80": (0.913, 0.828, 1.008),
    "pfs_without_keyvibe": (0.892, 0.796, 0.999),
    "os_acquired": (0.872, 0.766, 0.993),
}


@pytest.mark.parametrize("analysis", sorted(HAND))
def test_hand_computations_of_the_evidence_readme(stored, analysis):
    row = stored[(analysis, "overall")]
    ours = tuple(round(math.exp(row[k]), 3) for k in ("estimate", "ci_low", "ci_high"))
    assert ours == HAND[analysis]


def test_every_analysis_is_stored_with_its_method(stored):
    ids = {s.id for s in load_specs()}
    assert {a for a, _ in stored} == ids
    os_row = stored[("os", "overall")]
    assert (os_row["method"], os_row["test"], os_row["pi_dist"], os_row["ci_level_choice"]) == ("FE", "z", "normal", "printed")
    assert sorted(os_row["trials"]) == sorted(
        ["contact-01", "leap-008", "sapphire", "lung-map-s1800a", "pragmatica-lung-s2302", "saffron-301", "keyvibe-002"]
    )
    assert json.loads(os_row["method_spec"])["filters"] == {"inclusion": "included"}
    orr = stored[("orr", "overall")]
    assert "add 1/2" in orr["zero_cell_rule"]
    empty = stored[("ae_g3", "overall")]
    assert (empty["k"], math.isnan(empty["estimate"]), empty["converged"]) == (0, True, False)  # NULL in the table


def test_pool_json_has_the_documented_fields(bundled_db):
    from livemeta.analysis.present import summary

    run = api.pool(bundled_db, ["os"])
    s = summary(run.results[0])
    assert {"analysis", "estimate", "ci_low", "ci_high", "log_estimate", "se", "k", "trials", "method", "revision", "published"} <= set(s)
    assert s["published"]["estimate"] == 0.91 and s["published"]["trials"] == 10
    assert s["estimate"] == pytest.approx(math.exp(s["log_estimate"]))
    assert run.stored == "identical"  # stored by the build, recomputed equal


@pytest.mark.parametrize("case", [c for c in CASES if "metareg" in c], ids=lambda c: c["analysis"])
def test_metaregression_matches_metafor(bundled_db, case):
    """The analyses with moderators, end to end (view columns, factor coding, rows left out) against
    rma(yi, vi, mods = ~ ...) on the printed inputs."""
    from livemeta.analysis import run_analysis, select_specs

    (spec,) = select_specs(load_specs(), [case["analysis"]])
    with connect(bundled_db, read_only=True) as con:
        reg = run_analysis(con, spec, resolve_revision(con, None)).metareg
    ref = case["metareg"]
    tol = 1e-6 if spec.method in ITERATIVE else 1e-8
    assert reg.k == ref["k"]
    for ours, key in ((reg.beta, "beta"), (reg.se, "se"), (reg.pval, "pval"), (reg.ci_low, "ci_low"),
                      (reg.ci_high, "ci_high")):
        assert list(ours) == pytest.approx(ref[key], abs=tol, rel=tol), key
    for ours, key in ((reg.qm, "QM"), (reg.qm_p, "QMp"), (reg.qe, "QE"), (reg.tau2, "tau2"), (reg.r2, "R2")):
        assert ours == pytest.approx(ref[key], abs=tol, rel=tol), key
