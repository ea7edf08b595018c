"""analyses.yaml keys of issue 12: moderators (meta-regression), monitoring, ci_level p_value."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from livemeta.analysis import load_specs
from livemeta.analysis.run import moderator_columns
from livemeta.errors import LivemetaError
from livemeta.paths import resource


def _write(tmp_path, extra: str):
    text = resource("queries", "analyses.yaml").read_text() + extra
    path = tmp_path / "analyses.yaml"
    path.write_text(text)
    return path


def test_bundled_specs_and_unchanged_method_specs():
    specs = {s.id: s for s in load_specs()}
    assert specs["os_by_prior_io"].moderators == ("prior_io_minimum",)
    assert specs["os_s1800a_p"].ci_level == "p_value"
    for aid in ("os", "pfs", "os_acquired"):  # the reviewed monitoring settings (issue 23), each target justified
        mon = specs[aid].monitoring
        assert {k: mon[k] for k in ("target", "heterogeneity", "estimator", "overrun")} == {
            "target": 0.8, "heterogeneity": "D2", "estimator": "DL", "overrun": "alpha_preserving"}
        assert len(mon["justification"]) > 80
    # analyses without the new keys keep the method spec they were stored with
    spec = json.loads(specs["os_re"].method_spec())
    assert "moderators" not in spec and "monitoring" not in spec
    assert "moderators" in json.loads(specs["os_by_partner"].method_spec())


@pytest.mark.parametrize("extra, message", [
    ("  - id: x\n    title: t\n    view: analysis_rct_os\n    measure: HR\n    moderators: min_prior_io_months\n",
     "moderators is a list"),
    ("  - id: x\n    title: t\n    view: analysis_rct_os\n    measure: HR\n    monitoring: {alpha: 0.05}\n",
     "at least target"),
    ("  - id: x\n    title: t\n    view: analysis_rct_os\n    measure: HR\n    monitoring: {target: 1}\n",
     "other than 1"),
    ("  - id: x\n    title: t\n    view: analysis_rct_os\n    measure: HR\n    monitoring: {target: 0.8, powr: 0.9}\n",
     "did you mean 'power'"),
    ("  - id: x\n    title: t\n    view: analysis_rct_os\n    measure: HR\n    ci_level: p-value\n",
     "did you mean 'p_value'"),
    # issue 23: one model for the adjustment and the z-curve; the over-run rule; the justification
    ("  - id: x\n    title: t\n    view: analysis_rct_os\n    measure: HR\n    monitoring: {target: 0.8, estimator: FE}\n",
     "estimator FE goes with heterogeneity none"),
    ("  - id: x\n    title: t\n    view: analysis_rct_os\n    measure: HR\n    monitoring: {target: 0.8, estimator: REMl}\n",
     "did you mean 'REML'"),
    ("  - id: x\n    title: t\n    view: analysis_rct_os\n    measure: HR\n    monitoring: {target: 0.8, overrun: tsa}\n",
     "overrun 'tsa' is not valid"),
    ("  - id: x\n    title: t\n    view: analysis_rct_os\n    measure: HR\n    monitoring: {target: 0.8, heterogeneity: D3}\n",
     "heterogeneity 'D3' is not valid"),
    ("  - id: x\n    title: t\n    view: analysis_rct_os\n    measure: HR\n    monitoring: {target: 0.8, justification: ''}\n",
     "the reason for the target, as text"),
    ("  - id: x\n    title: t\n    view: analysis_rct_os\n    measure: HR\n    monitoring: {target: 0.8, justfication: x}\n",
     "did you mean 'justification'"),
])
def test_bad_keys_are_user_errors(tmp_path, extra, message):
    with pytest.raises(LivemetaError, match=message):
        load_specs(_write(tmp_path, extra))


def test_factor_moderators_are_coded_as_r_does():
    (spec,) = [s for s in load_specs() if s.id == "os_by_partner"]
    df = pd.DataFrame({"treatment_class": ["multitarget_tki", "antiangiogenic", None, "dual_checkpoint"]})
    cols, complete = moderator_columns(df, spec)
    assert list(cols) == ["treatment_classdual_checkpoint", "treatment_classmultitarget_tki"]
    np.testing.assert_array_equal(cols["treatment_classmultitarget_tki"], [1, 0, 0, 0])
    assert complete.tolist() == [True, True, False, True]


def test_monitoring_settings_in_the_method_spec_but_not_the_justification(tmp_path):
    extra = ("  - id: x\n    title: t\n    view: analysis_rct_os\n    measure: HR\n    monitoring: {target: 0.85, "
             "justification: 'the smallest worthwhile effect', estimator: REML, heterogeneity: none, "
             "overrun: final_boundary}\n")
    (spec,) = [s for s in load_specs(_write(tmp_path, extra)) if s.id == "x"]
    assert json.loads(spec.method_spec())["monitoring"] == {"target": 0.85, "estimator": "REML",
                                                          "heterogeneity": "none", "overrun": "final_boundary"}
    from livemeta.analysis.monitoring import settings_for

    s = settings_for(spec)
    assert (s.target, s.estimator, s.heterogeneity, s.overrun, s.justification, s.target_source) == (
        0.85, "REML", "none", "final_boundary", "the smallest worthwhile effect", "analyses file")
    o = settings_for(spec, target=0.9, alpha=None)
    assert (o.target, o.target_source, o.project_target, o.justification, o.alpha) == (
        0.9, "command line", 0.85, None, 0.05)
    assert o.target_text("HR") == ("target HR 0.90 (a command-line override of the analyses file's HR 0.85; "
                                   "its justification does not apply)")
    assert s.target_text("HR") == "target HR 0.85 (set in the analyses file: the smallest worthwhile effect)"
