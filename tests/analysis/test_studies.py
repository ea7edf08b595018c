"""One definition of each study's displayed numbers: livemeta.analysis.studies.study_table.

A study's interval is the printed one only when the printed CI is what was pooled; a variance
derived otherwise (here Lung-MAP S1800A's, from its one-sided P = .05, and its CI read at 80%)
gives the interval that variance implies, marked derived, with the printed interval in a note
(issue 20: forest_os_s1800a_p printed 0.69 [0.51, 0.92] beside a pooled variance of about 0.44-1.07).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from livemeta import api
from livemeta.analysis import analyses_at, run_analysis
from livemeta.analysis.studies import study_table
from livemeta.db import connect

from ..reports._builders import OS, hr_frame, make_result

Z95 = 1.959963984540054


@pytest.fixture(scope="module")
def s1800a(bundled_db):
    """S1800A's row of study_table under the three readings of its CI."""
    out = {}
    revision = api.revisions(bundled_db)[-1].revision_id
    with connect(bundled_db, read_only=True) as con:
        specs = {s.id: s for s in analyses_at(con, revision).specs}
        for aid in ("os", "os_s1800a_80", "os_s1800a_p"):
            res = run_analysis(con, specs[aid], revision)
            table = study_table(res)
            out[aid] = (res, table, table[table["trial_id"] == "lung-map-s1800a"].iloc[0])
    return out


def test_the_printed_interval_is_shown_where_it_is_what_was_pooled(s1800a):
    res, table, row = s1800a["os"]
    assert (row["estimate"], row["ci_low"], row["ci_high"]) == (0.69, 0.51, 0.92)
    assert row["interval"] == "printed" and row["derivation"] == "ci" and row["printed"] is None
    assert set(table["interval"]) == {"printed"} and table["weight"].sum() == pytest.approx(100)
    assert list(table["trial_id"]) == list(res.studies["trial_id"])  # the order pooled


def test_a_variance_from_the_p_value_shows_the_interval_it_implies(s1800a):
    res, table, row = s1800a["os_s1800a_p"]
    vi = (math.log(0.69) / 1.6448536269514722) ** 2  # one-sided P = .05: z = qnorm(0.95)
    assert row["vi"] == pytest.approx(vi, rel=1e-12)
    assert row["ci_low"] == pytest.approx(0.69 * math.exp(-Z95 * math.sqrt(vi)), rel=1e-12)  # 0.4434
    assert row["ci_high"] == pytest.approx(0.69 * math.exp(Z95 * math.sqrt(vi)), rel=1e-12)  # 1.0737
    assert round(row["ci_low"], 2) == 0.44 and round(row["ci_high"], 2) == 1.07
    assert row["interval"] == "derived" and row["derivation"] == "p_value"
    assert row["derived_from"] == "the printed P (one-sided P = 0.05) and HR"
    assert row["printed"] == "HR 0.69 (95% CI 0.51–0.92)"
    assert row["weight"] == pytest.approx(100 * (1 / vi) / (1 / res.studies["vi"]).sum(), rel=1e-12)
    assert (table["interval"] == "derived").sum() == 1  # the other six are read as printed


def test_a_ci_read_at_its_alternative_level_is_derived_too(s1800a):
    _, _, row = s1800a["os_s1800a_80"]
    assert row["interval"] == "derived" and row["derived_from"] == "the printed CI read at 80%"
    z80 = 1.2815515655446004
    se = (math.log(0.92) - math.log(0.51)) / (2 * z80)
    assert row["ci_low"] == pytest.approx(0.69 * math.exp(-Z95 * se), rel=1e-12)


def test_every_output_reads_the_same_study_rows(bundled_db, s1800a):
    """pool --json and the cumulative table's first step give study_table's numbers."""
    import json

    from livemeta.analysis.present import to_json
    from livemeta.living.cumulative import cumulative_rows

    res, table, _ = s1800a["os_s1800a_p"]
    studies = json.loads(to_json([res]))[0]["studies"]
    assert [s["ci_low"] for s in studies] == table["ci_low"].tolist()
    assert [s["interval"] for s in studies] == table["interval"].tolist()
    first = cumulative_rows(res).iloc[0]
    assert (first["estimate"], first["ci_low"], first["ci_high"]) == tuple(table.iloc[0][["estimate", "ci_low", "ci_high"]])


def test_counts_and_arrays_are_computed_from_what_was_pooled():
    res = make_result(hr_frame(OS), id="x", revision=1)
    table = study_table(res)
    assert set(table["interval"]) == {"printed"}  # the builders' HRs: yi and vi from their printed CIs
    bare = make_result(pd.DataFrame({"trial_id": ["a", "b"], "label": ["A", "B"], "yi": [-0.2, 0.1],
                                     "vi": [0.04, 0.09]}), id="y", revision=1)
    t = study_table(bare)
    assert list(t["interval"]) == ["computed", "computed"] and list(t["derivation"]) == ["yi/vi", "yi/vi"]
    assert t.loc[0, "ci_high"] == pytest.approx(math.exp(-0.2 + Z95 * 0.2), rel=1e-12)


def test_the_forest_plot_prints_the_derived_interval_and_the_printed_one_in_a_note(bundled_db, s1800a):
    from livemeta.reports import plots

    res, _, _ = s1800a["os_s1800a_p"]
    fig = plots.forest_plot(res, footer="")
    texts = [t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text"))]
    assert "0.69 [0.44, 1.07]" in texts and "0.69 [0.51, 0.92]" not in texts
    assert any(t.startswith("Lung-MAP S1800A") and t.endswith("‡") for t in texts)
    assert any("printed HR 0.69 (95% CI 0.51–0.92)" in t for t in texts)
    os_fig = plots.forest_plot(s1800a["os"][0], footer="")
    os_texts = [t.get_text() for t in os_fig.findobj(lambda o: hasattr(o, "get_text"))]
    assert "0.69 [0.51, 0.92]" in os_texts and not any("‡" in t for t in os_texts)


def test_pool_json_labels_every_prediction_interval(bundled_db):
    from livemeta.analysis.present import summary, to_table

    run = api.pool(bundled_db, ["pfs_re", "os"])

    pfs = summary(run.results[0])
    assert pfs["pi"]["label"] == "REML, t(k-1) = t(4), HKSJ" and pfs["pi"]["distribution"] == "t(k-1)"
    assert round(pfs["pi"]["low"], 2) == 0.59 and round(pfs["pi"]["high"], 2) == 1.27
    assert summary(run.results[1])["pi"]["label"] == "fixed effect: = CI"
    assert "    95% prediction interval 0.59–1.27 (REML, t(k-1) = t(4), HKSJ)" in to_table(run.results).splitlines()


def test_a_derived_variance_is_never_shown_with_the_printed_interval():
    """Without the database: a row whose variance came from its P (derivation p_value) keeps its
    printed HR and 95% CI, but is shown with the interval of the variance pooled."""
    df = hr_frame(OS)
    vi = (math.log(0.69) / 1.6448536269514722) ** 2
    df = df.assign(derivation="ci", p_value=None, p_sided=None)
    first = df.index[df["estimate"] == 0.69][0]
    df.loc[first, ["vi", "derivation", "p_value", "p_sided"]] = [vi, "p_value", 0.05, "one"]
    table = study_table(make_result(df, id="os_s1800a_p", revision=1))
    row = table.loc[first]
    assert row["interval"] == "derived" and row["printed"] == "HR 0.69 (95% CI 0.51–0.92)"
    assert (round(row["ci_low"], 2), round(row["ci_high"], 2)) == (0.44, 1.07)
    assert (table["interval"] == "printed").sum() == len(table) - 1
