"""Effect sizes against metafor's escalc() (tests/pooling/reference/methods_reference.json).

Tolerance: rtol = atol = 1e-8.  Every quantity here is closed form (logs,
ratios, arcsines), so the only differences are floating-point rounding.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from livemeta.pooling.effects import (
    ft_double_arcsine,
    log_hr_from_ci,
    log_or,
    log_rr,
    logit_proportion,
    risk_difference,
    table_from_events,
    transf_ilogit,
    transf_ipft,
    transf_ipft_hm,
)

REF = json.loads((Path(__file__).parent / "reference" / "methods_reference.json").read_text())
CASES = {c["id"]: c for c in REF["cases"]}
DATA = REF["data"]
TOL = dict(rtol=1e-8, atol=1e-8)  # closed-form results: rounding only


def _close(actual, expected, **tol):
    exp = np.array([np.nan if e is None else e for e in np.atleast_1d(expected)], float)
    np.testing.assert_allclose(np.asarray(actual, float), exp, equal_nan=True, **(tol or TOL))


def _bcg():
    d = DATA["dat.bcg"]
    return d["tpos"], d["tneg"], d["cpos"], d["cneg"]


def _niel():
    d = DATA["dat.nielweise2007"]
    return table_from_events(d["ai"], d["n1i"], d["ci"], d["n2i"])


FUNCS = {"OR": log_or, "RR": log_rr, "RD": risk_difference}
ESCALC_IDS = sorted(i for i, c in CASES.items() if c["group"] == "escalc")


@pytest.mark.parametrize("case_id", ESCALC_IDS)
def test_escalc_two_by_two(case_id):
    v = CASES[case_id]["values"]
    tables = _bcg() if v["dataset"] == "dat.bcg" else _niel()
    kw = dict(add=v["add"], to=v["to"], drop00=v["drop00"])
    if "vtype" in v:
        kw["vtype"] = v["vtype"]
    yi, vi = FUNCS[v["measure"]](*tables, **kw)
    _close(yi, v["yi"])
    _close(vi, v["vi"])


def test_drop00_marks_only_the_double_zero_study():
    yi, vi = log_or(*_niel(), drop00=True)
    assert np.flatnonzero(np.isnan(yi)).tolist() == [14]  # Yucel 2004: 0/118 vs 0/105
    yi0, _ = log_or(*_niel())
    # escalc's default keeps it, with 1/2 added to all four cells
    assert yi0[14] == pytest.approx(np.log((0.5 / 118.5) / (0.5 / 105.5)), rel=1e-12)


@pytest.mark.parametrize("measure", ["PLO", "PFT"])
def test_proportions(measure):
    v = CASES[f"escalc_pritz_{measure}"]["values"]
    d = DATA["dat.pritz1997"]
    f = logit_proportion if measure == "PLO" else ft_double_arcsine
    yi, vi = f(d["xi"], d["ni"])
    _close(yi, v["yi"])
    _close(vi, v["vi"])


def test_back_transforms():
    d = DATA["dat.pritz1997"]
    v = CASES["transf_ilogit_grid"]["values"]
    _close(transf_ilogit(v["x"]), v["values"])
    pft = CASES["escalc_pritz_PFT"]["values"]
    _close(transf_ipft(pft["yi"], d["ni"]), CASES["pritz_PFT_ipft_studies"]["values"]["values"])
    v = CASES["pritz_PFT_REML_ipft_hm"]["values"]
    _close(transf_ipft_hm([v["estimate"], v["ci_lb_raw"], v["ci_ub_raw"]], d["ni"]),
           [v["pred"], v["ci_lb"], v["ci_ub"]])


def test_back_transform_edges():
    assert transf_ilogit(800.0) == 1.0 and transf_ilogit(-800.0) == 0.0
    # beyond the transform of p = 0 / p = 1 metafor clamps to 0 / 1
    assert transf_ipft(np.array([-0.1, 2.0]), 10).tolist() == [0.0, 1.0]


@pytest.mark.parametrize("level", [0.8, 0.9, 0.95, 0.99])
def test_log_hr_from_ci_recovers_wald_interval(level):
    # Build Wald CIs at `level` from dat.bcg's escalc log RR and recover yi/vi.
    v = CASES["escalc_bcg_RR"]["values"]
    yi, vi = np.array(v["yi"]), np.array(v["vi"])
    z = stats.norm.ppf((1 + level) / 2)
    hr, lo, hi = np.exp(yi), np.exp(yi - z * np.sqrt(vi)), np.exp(yi + z * np.sqrt(vi))
    out = log_hr_from_ci(hr, lo, hi, level=level)
    _close(out.yi, yi)
    _close(out.vi, vi)


def test_log_hr_from_ci_closed_form_and_mixed_levels():
    yi, vi = log_hr_from_ci([0.70, 0.85], [0.55, 0.70], [0.89, 1.03], level=[0.95, 0.90])
    _close(yi, np.log([0.70, 0.85]))
    _close(vi, [((np.log(0.89) - np.log(0.55)) / (2 * 1.959963984540054)) ** 2,
                ((np.log(1.03) - np.log(0.70)) / (2 * 1.6448536269514722)) ** 2])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: log_hr_from_ci([0.7, 0.0], [0.5, 0.5], [0.9, 0.9]), "hr <= 0 at index 1"),
        (lambda: log_hr_from_ci([0.7, 0.8], [0.5, 0.9], [0.9, 0.9]), "ci_low >= ci_high at index 1"),
        (lambda: log_hr_from_ci([0.7], [0.5], [0.9], level=1.0), "level outside"),
        (lambda: log_hr_from_ci([0.7], [0.5], [0.9], level=0.0), "level outside"),
        (lambda: log_or([1, 2, -1], [3, 3, 3], [1, 1, 1], [2, 2, 2]), "negative count in ai at index 2"),
        (lambda: table_from_events([1, 9], [5, 8], [1, 1], [5, 5]), "events1 > n1 at index 1"),
        (lambda: logit_proportion([1, 4], [3, 3]), "xi > ni at index 1"),
        (lambda: log_rr([1, np.nan], [3, 3], [1, 1], [2, 2]), "ai is missing or not finite at index 1"),
        (lambda: log_or([1], [2], [3], [4], to="some"), "to must be one of"),
        (lambda: log_or([1, 2], [2], [3], [4]), "differ in length"),
    ],
)
def test_invalid_input_names_the_index(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_to_none_gives_infinite_values_for_zero_cells():
    yi, vi = log_or([0, 2], [10, 8], [3, 4], [7, 6], to="none")
    assert np.isinf(yi[0]) and np.isinf(vi[0]) and np.isfinite(yi[1])


def test_pooled_proportions_back_transformed():
    # REML pooling (core pool) then back-transform: tol 1e-6 because tau^2 is
    # iterative (Fisher scoring stopped by metafor at |change| < 1e-5).
    from livemeta.pooling import pool

    d = DATA["dat.pritz1997"]
    v = CASES["pritz_PLO_REML_ilogit"]["values"]
    r = pool(*logit_proportion(d["xi"], d["ni"]), method="REML")
    _close(transf_ilogit([r.estimate, r.ci_low, r.ci_high]), [v["pred"], v["ci_lb"], v["ci_ub"]],
           rtol=1e-6, atol=1e-6)
    v = CASES["pritz_PFT_REML_ipft_hm"]["values"]
    r = pool(*ft_double_arcsine(d["xi"], d["ni"]), method="REML")
    _close([r.estimate, r.ci_low, r.ci_high], [v["estimate"], v["ci_lb_raw"], v["ci_ub_raw"]],
           rtol=1e-6, atol=1e-6)
    _close(transf_ipft_hm([r.estimate, r.ci_low, r.ci_high], d["ni"]),
           [v["pred"], v["ci_lb"], v["ci_ub"]], rtol=1e-6, atol=1e-6)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=100, deadline=None)
@given(st.floats(-3, 3), st.floats(1e-3, 2.0), st.floats(0.5, 0.999))
def test_log_hr_from_ci_round_trip(y, se, level):
    z = stats.norm.ppf((1 + level) / 2)
    out = log_hr_from_ci(np.exp(y), np.exp(y - z * se), np.exp(y + z * se), level=level)
    assert out.yi[0] == pytest.approx(y, abs=1e-12)
    assert out.vi[0] == pytest.approx(se**2, rel=1e-9)
