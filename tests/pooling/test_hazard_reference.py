"""Log hazard ratios from reported statistics (livemeta.pooling.hazard) against calcTE.

Reference: ``tests/pooling/reference/hazard_reference.json``, written by
``tests/pooling/reference/make_reference_hazard.R`` from the R functions of
guido-s/calcTE (commit recorded in the JSON).  All closed form: tolerance 1e-8
(relative beyond 1), on the log HR (calcTE's TE) and its standard error (seTE).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from livemeta.pooling.effects import log_hr_from_ci
from livemeta.pooling.hazard import (
    log_hr_from_logrank,
    log_hr_from_oe,
    log_hr_from_observed_expected,
    log_hr_from_p,
    log_hr_from_p_events,
    z_from_p,
)

from ._reference import check_grid, load_reference, rel_err

REF = load_reference("hazard_reference.json")
CASES = REF["cases"]
MIN_COUNTS = {"p_estimate": 66, "p_events": 300, "p_total_events": 18, "logrank_estimate": 8,
              "logrank_events": 12, "oe_v": 4, "observed_expected": 3, "ci": 9}


def _derive(case):
    i = case["inputs"]
    kind = case["kind"]
    if kind == "p_estimate":
        return log_hr_from_p(i["hr"], i["p"], sided=i["sided"])
    if kind == "p_events":
        return log_hr_from_p_events(i["p"], hr_above_1=i["hr_above_1"], events_e=i["events_e"],
                                    events_c=i["events_c"], n_e=i.get("n_e"), n_c=i.get("n_c"),
                                    sided=i["sided"], variance=i["variance"])
    if kind == "p_total_events":
        return log_hr_from_p_events(i["p"], hr_above_1=i["hr_above_1"], events=i["events"],
                                    ratio=i["ratio"], sided=i["sided"])
    if kind == "logrank_estimate":
        return log_hr_from_logrank(i["chisq"], hr=i["hr"])
    if kind == "logrank_events":
        return log_hr_from_logrank(i["chisq"], hr_above_1=i["hr_above_1"], events_e=i["events_e"],
                                   events_c=i["events_c"], variance=i["variance"])
    if kind == "oe_v":
        return log_hr_from_oe(i["o_minus_e"], i["v"])
    if kind == "observed_expected":
        return log_hr_from_observed_expected(i["obs_e"], i["exp_e"], i["obs_c"], i["exp_c"])
    if kind == "ci":
        return log_hr_from_ci(i["hr"], i["ci_low"], i["ci_high"], level=i["level"])
    raise AssertionError(kind)


def _error(case):
    yi, vi = _derive(case)
    v = case["values"]
    return max(rel_err(yi, v["TE"]), rel_err(np.sqrt(vi), v["seTE"]))


def test_grid_has_not_shrunk():  # versions and the calcTE commit: tests/reference/test_reference_versions.py
    check_grid(REF, MIN_COUNTS)
    assert {c["inputs"].get("sided") for c in CASES if c["kind"] == "p_events"} == {1, 2}


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_against_calcte(case):
    assert _error(case) <= 1e-8


def test_worst_error_over_the_grid():
    assert max(_error(c) for c in CASES) < 1e-13


def test_lung_map_s1800a_three_readings():
    """HR 0.69, printed CI 0.51-0.92 and one-sided P = .05 (the log-rank test was one-sided 10%)."""
    yi95, vi95 = log_hr_from_ci(0.69, 0.51, 0.92, level=0.95)
    yi80, vi80 = log_hr_from_ci(0.69, 0.51, 0.92, level=0.80)
    yip, vip = log_hr_from_p(0.69, 0.05, sided=1)
    assert yi95[0] == yi80[0] == yip[0] == pytest.approx(math.log(0.69))
    assert math.sqrt(vi95[0]) == pytest.approx((math.log(0.92) - math.log(0.51)) / (2 * 1.959963984540054))
    assert math.sqrt(vip[0]) == pytest.approx(-math.log(0.69) / 1.6448536269514722, rel=1e-14)
    # the P-derived interval is close to the CI read at 80%, far from the 95% reading
    assert abs(vip[0] - vi80[0]) < 0.1 * vi80[0] and vi95[0] < 0.5 * vip[0]


def test_tierney_2007_readable_numbers():
    """Tierney et al., Trials 2007;8:16, where their numbers can be read.

    * a two-sided log-rank P = 0.075 gives z = 1.78 (their eq. 14 example, as quoted
      in the comment published in Trials 2013;14:391, doi:10.1186/1745-6215-14-391);
    * an O - E variance V = 128.81 with HR 0.88 gives the 95% CI 0.74-1.05 they report
      for the bladder cancer example (vi = 1 / V); read from a summary of the paper,
      the full worked tables were not available here.
    """
    assert float(z_from_p(0.075)[0]) == pytest.approx(1.78, abs=0.005)
    oe = math.log(0.88) * 128.81
    yi, vi = log_hr_from_oe(oe, 128.81)
    lo, hi = np.exp(yi[0] - 1.959963984540054 * math.sqrt(vi[0])), np.exp(yi[0] + 1.959963984540054 * math.sqrt(vi[0]))
    assert (round(lo, 2), round(hi, 2)) == (0.74, 1.05)


@pytest.mark.parametrize("call", [
    lambda: log_hr_from_p(1.0, 0.5), lambda: log_hr_from_p(0.7, 0.0), lambda: log_hr_from_p(0.7, 0.6, sided=1),
    lambda: log_hr_from_p_events(0.05, hr_above_1=False), lambda: log_hr_from_p_events(0.05, hr_above_1=False, events=[10], events_e=[5], events_c=[5]),
    lambda: log_hr_from_p_events(0.05, hr_above_1=False, events_e=[0], events_c=[5], variance="product"),
    lambda: log_hr_from_oe(-3, 0), lambda: log_hr_from_logrank(-1.0, hr=0.8), lambda: log_hr_from_logrank(4.0),
])
def test_bad_input_is_refused(call):
    with pytest.raises(ValueError):
        call()
