"""The GLMM as an analysis method, and exact intervals on study rows (issue 23 item 7)."""

from __future__ import annotations

import json
import math

import pytest

from livemeta.analysis import load_specs, run_analysis
from livemeta.analysis.spec import spec_from_dict
from livemeta.db import connect, resolve_revision
from livemeta.errors import LivemetaError
from livemeta.living.cumulative import cumulative_rows
from livemeta.reports import display
from livemeta.reports.report import summary_rows
from tests.conftest import REPO

# the bundled single-arm ORR as metafor's rma.glmm pools it (tests/analysis/reference/make_bundled_reference.R:
# each trial once, NCT02888743's three cohorts combined, 8/78)
BUNDLED_REF = json.loads((REPO / "tests/analysis/reference/bundled_reference.json").read_text())
BUNDLED = next(r for r in BUNDLED_REF["results"] if r["analysis"] == "single_arm_orr_glmm" and r["stratum"] == "overall")
GLMM = {"id": "orr_glmm", "title": "ORR, GLMM", "view": "analysis_single_arm_orr", "measure": "proportion",
        "method": "GLMM", "filters": {"inclusion": "included"}}


@pytest.fixture(scope="module")
def runs(bundled_db):
    with connect(bundled_db, read_only=True) as con:
        rev = resolve_revision(con, None)
        main = next(s for s in load_specs() if s.id == "single_arm_orr_by_class")
        return run_analysis(con, spec_from_dict(GLMM), rev), run_analysis(con, main, rev)


def test_a_glmm_analysis_pools_the_counts_as_metafor(runs):
    glmm, _ = runs
    o = glmm.overall
    assert o.method == "GLMM" and glmm.k == BUNDLED["k"] == 6
    for ours, theirs in ((o.estimate, "estimate"), (o.se, "se"), (o.ci_low, "ci_low"), (o.ci_high, "ci_high"), (o.tau2, "tau2")):
        assert ours == pytest.approx(BUNDLED[theirs], abs=1e-6)
    pct = [100 / (1 + math.exp(-v)) for v in (o.estimate, o.ci_low, o.ci_high)]
    assert [round(v, 1) for v in pct] == [11.4, 8.2, 15.7]
    assert "no continuity correction" in glmm.spec.zero_cell_rule and "Clopper-Pearson" in glmm.spec.zero_cell_rule
    assert all(math.isnan(w) for w in glmm.studies["weight"])  # a GLMM has no study weights
    steps = cumulative_rows(glmm)
    assert steps["ci_high"].iloc[-1] == pytest.approx(pct[2] / 100, abs=1e-9)


def test_study_rows_of_proportions_show_exact_intervals(runs):
    _, main = runs
    ak = main.studies[main.studies["trial_id"] == "ak104-202"].iloc[0]
    est, lo, hi = display.exact_interval(ak, 0.95)
    assert (est, lo, round(hi, 1)) == (0.0, 0.0, 14.8)
    bispecific = next(r for r in summary_rows(main) if r["id"].endswith(":bispecific"))
    assert bispecific["estimate"] == "2.1% (0.1–25.9)"  # the model's row, 1/2 added to the zero cell ...
    assert bispecific["notes"] == "k = 1: 0/23, 0.0% (exact 95% CI 0.0–14.8); the logit model adds 1/2 to its zero cell"
    assert "add 1/2" in main.spec.zero_cell_rule and "Clopper-Pearson" in main.spec.zero_cell_rule


@pytest.mark.parametrize("change, message", [
    ({"measure": "HR", "view": "analysis_rct_os"}, "method GLMM pools proportions"),
    ({"subgroup": "treatment_class"}, "method GLMM takes no subgroup"),
    ({"test": "knha"}, "method GLMM takes no test"),
])
def test_glmm_is_refused_where_it_does_not_apply(change, message):
    with pytest.raises(LivemetaError, match=message):
        spec_from_dict({**GLMM, **change})
    main = next(s for s in load_specs() if s.id == "single_arm_orr_by_class")
    with pytest.raises(LivemetaError, match="takes no subgroup"):
        main.variant(method="GLMM")
