"""Reading an analysis's rows: the same rows in the same order whether a view is read for one
analysis, shared by many (sorted once), or handed over unsorted by the replay."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from livemeta.analysis import load_rows, load_specs, run_analysis
from livemeta.analysis.run import read_view
from livemeta.db import connect, current_revision
from livemeta.errors import LivemetaError


def test_analyses_sharing_views_read_what_each_reads_alone(bundled_db):
    specs = load_specs()
    with connect(bundled_db, read_only=True) as con:
        rev = current_revision(con)
        views: dict = {}
        for spec in specs:
            pd.testing.assert_frame_equal(load_rows(con, spec, rev, views), load_rows(con, spec, rev))
        assert sorted(k[0] for k in views if k[-1] == "ordered") == sorted({s.view for s in specs})


def test_a_view_handed_over_in_another_order_is_ordered(bundled_db):
    spec = next(s for s in load_specs() if s.id == "os")
    with connect(bundled_db, read_only=True) as con:
        rev = current_revision(con)
        alone = run_analysis(con, spec, rev)
        shuffled = read_view(con, spec.view, rev).sample(frac=1.0, random_state=7).reset_index(drop=True)
        handed = run_analysis(con, spec, rev, {(spec.view, rev): shuffled})
    assert alone.k > 1 and alone.trials == list(alone.studies["trial_id"])
    assert alone.studies["trial_id"].tolist() != shuffled["trial_id"].tolist()  # the handed order differed
    pd.testing.assert_frame_equal(alone.studies, handed.studies)
    for name in ("estimate", "ci_low", "ci_high", "weights"):
        assert getattr(handed.overall, name) == getattr(alone.overall, name)
    assert handed.trials == list(dict.fromkeys(alone.studies["trial_id"]))


def test_a_trial_with_several_cohorts_enters_a_pooled_proportion_once():
    """Unit of analysis (Cochrane Handbook 23.3.4): NCT02888743's three randomised arms, all on
    durvalumab + tremelimumab, entered the single-arm ORR as three independent cohorts (issue 20).
    combine sums responders and patients (3 + 2 + 3 of 78); largest keeps the largest cohort."""
    import pandas as pd

    from livemeta.analysis.run import one_row_per_trial
    from livemeta.analysis.spec import AnalysisSpec, spec_from_dict

    df = pd.DataFrame({
        "trial_id": ["a", "dt", "dt", "dt", "b"], "trial": ["A", "DT", "DT", "DT", "B"],
        "label": ["A", "DT: no RT", "DT: LDFRT", "DT: HFRT", "B"], "arm_id": ["x", "no_rt", "ldfrt", "hfrt", "y"],
        "xi": [11, 3, 2, 3, 5], "ni": [68, 26, 26, 30, 59], "treatment_class": ["tki", "dual", "dual", "dual", "pd1"],
        "verified": [True, True, False, True, True]})
    spec = AnalysisSpec(id="sa", title="sa", view="analysis_single_arm_orr", measure="proportion")
    combined = one_row_per_trial(df, spec)
    assert list(combined["trial_id"]) == ["a", "dt", "b"] and list(combined["cohorts"]) == [1, 3, 1]
    dt = combined.iloc[1]
    assert (dt["xi"], dt["ni"], dt["label"], dt["treatment_class"]) == (8, 82, "DT (3 cohorts combined)", "dual")
    assert dt["arm_id"] == "no_rt; ldfrt; hfrt" and not dt["verified"]
    largest = one_row_per_trial(df, spec_from_dict({"id": "sa", "title": "sa", "view": "analysis_single_arm_orr",
                                                    "measure": "proportion", "cohorts": "largest"}))
    assert largest.iloc[1][["xi", "ni", "label"]].tolist() == [3, 30, "DT: HFRT (largest of 3 cohorts)"]
    with pytest.raises(LivemetaError, match="cohorts 'each' is not valid"):
        spec_from_dict({"id": "x", "title": "x", "view": "analysis_single_arm_orr", "measure": "proportion",
                        "cohorts": "each"})
    with pytest.raises(LivemetaError, match="cohorts is the unit of analysis of a pooled proportion"):
        spec_from_dict({"id": "x", "title": "x", "view": "analysis_rct_os", "measure": "HR", "cohorts": "combine"})
    hr = AnalysisSpec(id="os", title="os", view="analysis_rct_os", measure="HR")
    assert one_row_per_trial(df, hr) is df and "cohorts" not in json.loads(hr.method_spec())
    assert json.loads(spec.method_spec())["cohorts"] is None and spec.cohort_rule == "combine"  # not stated
    stated = spec_from_dict({"id": "sa", "title": "sa", "view": "analysis_single_arm_orr", "measure": "proportion",
                             "cohorts": "combine"})
    assert json.loads(stated.method_spec())["cohorts"] == "combine" and stated != spec
