"""Influence diagnostics and MH / Peto leave-one-out and cumulative against R metafor.

Reference: ``tests/pooling/reference/influence_reference.json``, written by
``tests/pooling/reference/make_reference_influence.R`` (metafor 3.8-1, R 4.2.2).

Tolerance ``|livemeta - metafor| <= tol * max(1, |metafor|)``: 1e-8 for the
closed-form estimators and for Mantel-Haenszel / Peto, 1e-6 for REML, ML, PM
and EB (every leave-one-out refit iterates).  metafor's ``is.infl`` flags
(``*``) must agree exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

from livemeta.pooling import (
    cumulative,
    cumulative_tables,
    influence,
    leave_one_out,
    leave_one_out_tables,
)

from ._reference import check_grid, load_reference, rel_err, to_float

REF = load_reference("influence_reference.json")
CASES = REF["cases"]
INFL = [c for c in CASES if c["kind"] == "influence"]
TABLES = [c for c in CASES if c["kind"] in ("leave1out", "cumul")]
ITERATIVE = {"REML", "ML", "PM", "EB"}

MIN_COUNTS = {"influence": 540, "leave1out": 16, "cumul": 16}  # guard: grid never shrinks


def _influence_error(case):
    ds = REF["datasets"][case["dataset"]]
    mods = None
    if case.get("mods"):
        mods = {m: np.array(ds["mods"][m], float) for m in case["mods"]}
    r = influence(ds["yi"], ds["vi"], mods, method=case["method"], test=case["test"])
    v = case["values"]
    assert [bool(s) for s in v["inf"]] == r.is_infl.tolist()
    pairs = [(r.rstudent, v["rstudent"]), (r.dffits, v["dffits"]), (r.cook_d, v["cook.d"]),
             (r.cov_r, v["cov.r"]), (r.tau2_del, v["tau2.del"]), (r.qe_del, v["QE.del"]),
             (r.hat, v["hat"]), (r.weight, v["weight"]), (r.dfbetas, v["dfbs"]),
             (r.tau2, v["tau2"]), (r.qe, v["QE"]), (r.baujat_x, v["baujat_x"]), (r.baujat_y, v["baujat_y"])]
    return max(rel_err(a, b) for a, b in pairs)


def _tables_error(case):
    t = REF["tables"][case["tables"]]
    cells = [np.array(t[c], float) for c in ("ai", "bi", "ci", "di")]
    kw = dict(method=case["model"], measure=case["measure"] if case["model"] == "MH" else "OR")
    if case["kind"] == "leave1out":
        r = leave_one_out_tables(*cells, **kw)
    else:
        r = cumulative_tables(*cells, order=np.array(t["year"]), **kw)
        assert r.index.tolist() == case["values"]["order"]
    v = case["values"]
    pairs = [(r.estimate, v["estimate"]), (r.se, v["se"]), (r.stat, v["zval"]), (r.p, v["pval"]),
             (r.ci_low, v["ci.lb"]), (r.ci_high, v["ci.ub"]), (r.q, v["Q"]), (r.q_p, v["Qp"]),
             (r.i2, v["I2"]), (r.h2, v["H2"])]
    return max(rel_err(a, b) for a, b in pairs)


def test_grid_has_not_shrunk():  # versions: tests/reference/test_reference_versions.py
    check_grid(REF, MIN_COUNTS)
    assert sum(1 for c in INFL if c.get("mods")) >= 36
    assert any("*" in c["values"]["inf"] for c in INFL)  # flags are exercised


@pytest.mark.parametrize("case", INFL, ids=[c["id"] for c in INFL])
def test_influence_against_metafor(case):
    assert _influence_error(case) <= (1e-6 if case["method"] in ITERATIVE else 1e-8)


@pytest.mark.parametrize("case", TABLES, ids=[c["id"] for c in TABLES])
def test_mh_peto_leave_one_out_and_cumulative(case):
    assert _tables_error(case) <= 1e-8


def test_worst_errors_over_the_grid():
    worst_it = max(_influence_error(c) for c in INFL if c["method"] in ITERATIVE)
    worst_cf = max(_influence_error(c) for c in INFL if c["method"] not in ITERATIVE)
    worst_tab = max(_tables_error(c) for c in TABLES)
    assert worst_cf < 1e-9 and worst_it < 1e-7 and worst_tab < 1e-12, (worst_cf, worst_it, worst_tab)


def test_metafor_own_influence_example():
    """metafor tests/testthat/test_misc_influence.r: dat.bcg log RR, REML, study 1."""
    ds = REF["datasets"]["bcg_logRR"]
    r = influence(ds["yi"], ds["vi"])
    got = [r.rstudent[0], r.dffits[0], r.cook_d[0], r.cov_r[0], r.tau2_del[0], r.qe_del[0],
           r.hat[0], r.weight[0], r.dfbetas[0, 0]]
    want = [-0.218142, -0.040708, 0.001717, 1.116449, 0.336157, 151.582573, 0.050595, 5.059483,
            -0.040266]
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert not r.is_infl[0]


def test_tables_sensitivity_agrees_with_the_yi_vi_path_for_its_fields():
    """Peto's leave-one-out Q equals Q of the remaining tables; the yi/vi path is unaffected."""
    t = REF["tables"]["bcg"]
    cells = [np.array(t[c], float) for c in ("ai", "bi", "ci", "di")]
    l1 = leave_one_out_tables(*cells, method="PETO")
    assert l1.method == "PETO" and l1.index.tolist() == list(range(13))
    ds = REF["datasets"]["bcg_logRR"]
    assert leave_one_out(ds["yi"], ds["vi"]).results[0].k == 12
    assert cumulative(ds["yi"], ds["vi"]).results[-1].k == 13
