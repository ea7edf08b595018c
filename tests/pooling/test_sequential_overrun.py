"""Boundaries at and past the required information against R rpact (issue 23).

Reference: ``tests/pooling/reference/overrun_reference.json``, written by
``tests/pooling/reference/make_reference_overrun.R`` (rpact 3.3.4, R 4.2.2): the planned boundaries
below 1, the alpha-preserving final analysis (rpact ``typeOfDesign = "asUser"``), the final boundary
reused (the TSA software's convention), and the type I error each set of boundaries spends over all
the looks (``getGroupSequentialProbabilities()``). Tolerance 1e-6 (iterative; rpact's alphaSpent is
itself integrated on its grid); with rpact's own quadrature replayed everywhere, with the default
Gauss-Legendre quadrature except where rpact is the limit (:data:`COARSE_FOR_RPACT`: looks 0.97 and
1.02, where its 91-point grid is too coarse, up to 4e-5 as for the close looks of
test_sequential_reference.py; a first boundary above 7, where its bisection stops 7e-6 short of the
closed form).
"""

from __future__ import annotations

import numpy as np
import pytest

from livemeta.pooling.sequential import _look_boundaries, crossing_probability, group_sequential_design

from ._reference import check_grid, load_reference, rel_err, to_float

REF = load_reference("overrun_reference.json")
CASES = REF["cases"]
TOL = 1e-6
COARSE_FOR_RPACT = {c["id"] for c in CASES if "close_past" in c["id"]} | {"asOF/sided2/alpha0.01/many_past"}


def _bounds(c, overrun, quadrature):
    crit, _fut, spent, _d, _od, m = _look_boundaries(
        np.array(c["fractions"]), alpha=c["alpha"], sided=c["sided"], type_of_design=c["typeOfDesign"], beta=0.2,
        futility="none", binding_futility=False, overrun=overrun, characteristics=False, quadrature=quadrature)
    return np.where(np.isnan(crit), np.inf, crit), spent, m


def test_grid_has_not_shrunk():
    check_grid(REF, {"overrun": 48, "no_overrun": 5})
    assert {c["id"] for c in CASES} >= {"asOF/sided2/alpha0.05/os_bundled", "asOF/sided2/alpha0.05/pfs_bundled"}


def test_the_bundled_os_looks():
    """The issue's numbers: the final analysis at the OS look past the required information needs
    |z| >= 2.30; reusing the planned final boundary (2.05) spends 6.5% over three looks, 8.2% over four."""
    c = next(c for c in CASES if c["id"] == "asOF/sided2/alpha0.05/os_bundled")
    ours, _, m = _bounds(c, "alpha_preserving", "gauss-legendre")
    assert m == 2 and round(ours[2], 2) == 2.30 and np.isinf(ours[3])
    fb, _, _ = _bounds(c, "final_boundary", "gauss-legendre")
    f = np.array(c["fractions"])
    assert round(crossing_probability(f[:3], fb[:3]), 3) == 0.065
    assert round(crossing_probability(f, fb), 3) == 0.082 == round(c["values"]["final_boundary_total"], 3)


@pytest.mark.parametrize("quadrature", ["rpact", "gauss-legendre"])
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_against_rpact(case, quadrature):
    v = case["values"]
    f = np.array(case["fractions"])
    tol = TOL if quadrature == "rpact" or case["id"] not in COARSE_FOR_RPACT else 1e-4
    if case["kind"] == "no_overrun":
        ours, spent, m = _bounds(case, "alpha_preserving", quadrature)
        assert m is None
        assert rel_err(ours, to_float(v["planned_critical"])[:-1]) <= tol
        assert rel_err(spent, to_float(v["planned_spent"])[:-1]) <= TOL
        assert abs(crossing_probability(f, ours, sided=case["sided"]) - v["alpha_preserving_total"]) <= tol
        return
    for rule in ("alpha_preserving", "final_boundary"):
        ours, _, m = _bounds(case, rule, quadrature)
        assert m + 1 == case["overrun_look"]
        ref = to_float(v[f"{rule}_bounds"])
        assert (np.isinf(ours) == np.isinf(ref)).all()
        assert rel_err(np.where(np.isinf(ref), 0, ours), np.where(np.isinf(ref), 0, ref)) <= tol
        total = crossing_probability(f, ours, sided=case["sided"])
        assert abs(total - v[f"{rule}_total"]) <= tol
    assert abs(v["alpha_preserving_total"] - case["alpha"]) < 1e-6  # rpact: the rule preserves alpha


def test_user_spending_is_rpacts_asuser():
    c = next(c for c in CASES if c["id"] == "asP/sided1/alpha0.025/five")
    f = np.array(c["fractions"])
    spent = to_float(c["values"]["planned_spent"])[:3]
    d = group_sequential_design(f[:4] / f[3], alpha=0.025, sided=1, type_of_design="asUser",
                                user_alpha_spending=list(spent) + [0.025], quadrature="rpact")
    assert rel_err(d.critical_values, c["values"]["overrun_critical"]) <= TOL
    np.testing.assert_allclose(d.alpha_spent, list(spent) + [0.025], rtol=1e-14)


@pytest.mark.parametrize("bad", [dict(user_alpha_spending=[0.02, 0.01, 0.05]), dict(user_alpha_spending=[0.01, 0.04]),
                                 dict(user_alpha_spending=[0.01, 0.02, 0.04]), dict(user_alpha_spending=None),
                                 dict(user_alpha_spending=[0.01, 0.02, 0.025], type_beta_spending="bsOF", sided=1,
                                      alpha=0.025)])
def test_bad_user_spending_is_refused(bad):
    kw = {"alpha": 0.05, "sided": 2, "type_of_design": "asUser", **bad}
    with pytest.raises(ValueError):
        group_sequential_design([0.3, 0.6, 1.0], **kw)
    with pytest.raises(ValueError):
        group_sequential_design([0.5, 1.0], alpha=0.05, user_alpha_spending=[0.01, 0.05])  # not asUser
