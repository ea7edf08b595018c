"""Reading an analysis's rows: the same rows in the same order whether a view is read for one
analysis, shared by many (sorted once), or handed over unsorted by the replay."""

from __future__ import annotations

import pandas as pd

from livemeta.analysis import load_rows, load_specs, run_analysis
from livemeta.analysis.run import read_view
from livemeta.db import connect, current_revision


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
