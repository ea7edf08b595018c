"""Forest, funnel and cumulative plots: content, layout (no overlapping text) and the files written.

Figures are built from small hand-made AnalysisResult objects (the OS hazard ratios of the bundled
evidence, a subgroup analysis, 2x2 and single-arm data, a k = 12 set with long labels and wide
intervals) and, when it builds, from the bundled database.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

import matplotlib  # noqa: E402  (a dependency of livemeta: a missing one must fail, not skip)

from ._builders import OS, hr_frame, png_size  # noqa: E402
from ._layout import all_text, drawn_texts, into_panel, outside, overlapping  # noqa: E402
from ._builders import make_result as _make_result  # noqa: E402
from livemeta.analysis.run import AnalysisResult  # noqa: E402
from livemeta.analysis.spec import Published  # noqa: E402
from livemeta.pooling.bias import egger_test  # noqa: E402
from livemeta.pooling.effects import log_or, log_rr, logit_proportion  # noqa: E402
from livemeta.reports import plots  # noqa: E402


def make_result(df: pd.DataFrame, *, id="os", title="Overall survival, PD-(L)1 rechallenge vs control (RCTs)",
                filters=None, **kw) -> AnalysisResult:
    return _make_result(df, id=id, title=title, filters=filters or {"inclusion": "included"}, revision=4, **kw)


def os_result(**kw) -> AnalysisResult:
    kw.setdefault("published", Published(0.91, 0.82, 0.99, 10, "OS HR 0.91 (95% CI 0.82-0.99), 10 RCTs"))
    return make_result(hr_frame(OS), **kw)


def or_result() -> AnalysisResult:
    df = pd.DataFrame({"trial_id": ["saffron-301", "sapphire", "contact-01"],
                       "label": ["SAFFRON-301", "SAPPHIRE", "CONTACT-01"],
                       "ai": [23, 44, 22], "bi": [164, 240, 164], "ci": [24, 50, 0], "di": [166, 243, 180],
                       "treatment_class": ["multitarget_tki"] * 3, "control_type": ["docetaxel"] * 3,
                       "verified": [False, True, True]})
    es = log_or(df.ai, df.bi, df.ci, df.di)
    df = df.assign(yi=np.asarray(es.yi, float), vi=np.asarray(es.vi, float),
                   n1i=df.ai + df.bi, n2i=df.ci + df.di)
    return make_result(df, id="orr", measure="OR", view="analysis_rct_orr", title="Objective response (RCTs)")


def rr_result() -> AnalysisResult:
    df = pd.DataFrame({"trial_id": ["a", "b"], "label": ["TRIAL-A", "TRIAL-B"], "ai": [73, 60], "bi": [112, 90],
                       "ci": [58, 40], "di": [109, 100], "treatment_class": ["multitarget_tki", "antiangiogenic"],
                       "control_type": ["docetaxel", "docetaxel"], "verified": [True, True]})
    es = log_rr(df.ai, df.bi, df.ci, df.di)
    df = df.assign(yi=np.asarray(es.yi, float), vi=np.asarray(es.vi, float))
    return make_result(df, id="ae_g3", measure="RR", view="analysis_rct_ae_g3", title="Grade >=3 TRAEs")


def prop_result() -> AnalysisResult:
    rows = [("mrtx-500", "MRTX-500 (prior clinical benefit cohort)", 11, 68, "multitarget_tki"),
            ("sintilimab", "Sintilimab + anlotinib after first-line PD-(L)1", 5, 29, "multitarget_tki"),
            ("ak104", "AK104-202 cohorts B and C", 0, 23, "bispecific"),
            ("durva", "durvalumab + tremelimumab +/- radiotherapy (NCT02888743): durvalumab + tremelimumab + "
                      "hypofractionated radiotherapy (24 Gy / 3 fractions)", 3, 26, "dual_checkpoint"),
            ("durva", "durvalumab + tremelimumab +/- radiotherapy (NCT02888743): durvalumab + tremelimumab + "
                      "low-dose fractionated radiotherapy", 2, 26, "dual_checkpoint")]
    df = pd.DataFrame(rows, columns=["trial_id", "label", "xi", "ni", "treatment_class"]).assign(verified=True)
    es = logit_proportion(df.xi.to_numpy(float), df.ni.to_numpy(float))
    df = df.assign(yi=np.asarray(es.yi, float), vi=np.asarray(es.vi, float))
    return make_result(df, id="single_arm_orr_by_class", measure="proportion", method="REML",
                       subgroup="treatment_class", view="analysis_single_arm_orr",
                       title="Objective response in single-arm trials by treatment class")


def big_result(k: int = 12, method="REML", test="knha") -> AnalysisResult:
    rng = np.random.default_rng(7)
    rows = []
    for i in range(k):
        est = float(np.exp(rng.normal(-0.1, 0.25)))
        half = float(rng.uniform(0.1, 0.5)) * (25 if i == 5 else 1)  # one interval far off the axis
        label = (f"A deliberately long trial name for layout testing, cohort {i}: arm with drug X plus drug Y "
                 f"after progression on a PD-1 inhibitor and platinum doublet chemotherapy" if i % 3 == 0
                 else f"TRIAL-{i:02d}")
        rows.append((f"t{i:02d}", label, round(est, 2), round(est * math.exp(-half), 2),
                     round(est * math.exp(half), 2), ["antiangiogenic", "multitarget_tki", "dual_checkpoint"][i % 3],
                     ["docetaxel", "investigator_choice"][i % 2], i % 4 != 1, 2015 + i))
    return make_result(hr_frame(rows), method=method, test=test, id="big")


def test_overlap_check_detects_overlapping_labels():
    """The layout check is real: two labels placed on top of each other are reported."""
    fig = plots._new_figure(4, 2)
    fig.text(0.1, 0.5, "favours rechallenge")
    fig.text(0.15, 0.5, "favours control")
    fig.text(0.1, 0.1, "apart")
    assert overlapping(fig) == [("favours rechallenge", "favours control")]


CASES = {
    "hr_fe": lambda: os_result(),
    "hr_re": lambda: os_result(id="os_re", method="REML", test="knha"),
    "subgroup": lambda: os_result(id="os_by_class", subgroup="treatment_class"),
    "or": or_result,
    "rr": rr_result,
    "proportion_subgroups": prop_result,
    "big_long_labels": big_result,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_forest_text_does_not_overlap(case):
    fig = plots.forest_plot(CASES[case](), footer="revision 4 (2025-03-01) · livemeta 0.1.0")
    assert overlapping(fig) == []
    assert outside(fig) == []
    assert into_panel(fig) == []


def test_forest_hr_numbers_and_labels():
    res = os_result()
    fig = plots.forest_plot(res, footer="revision 4 (2025-03-01) · livemeta 0.1.0")
    text = all_text(fig)
    for trial in ("Lung-MAP S1800A †", "CONTACT-01", "Pragmatica-Lung S2302"):
        assert trial in text
    assert "0.88 [0.68, 1.16]" in text  # the published CI, as printed
    assert "0.69 [0.51, 0.92]" in text
    assert "multitarget TKI" in text and "investigator's choice" in text and "placebo + docetaxel" in text
    o = res.overall
    est, lo, hi = (math.exp(v) for v in (o.estimate, o.ci_low, o.ci_high))
    assert f"{est:.2f} [{lo:.2f}, {hi:.2f}]" == "0.90 [0.82, 0.99]"
    assert "0.90 [0.82, 0.99]" in text and "100.0%" in text
    for w in res.studies["weight"]:
        assert f"{w:.1f}%" in text
    assert f"Heterogeneity: I² = {o.i2:.0f}%, Q = {o.q:.2f} (df = 6, p = {o.q_p:.2f})" in text
    # p of the 7-RCT fixed-effect OS pool: 0.02783 in metafor (tests/analysis/reference/bundled_reference.json)
    assert f"Test for overall effect: z = {o.stat:.2f}, p = 0.03" in text and round(o.p, 4) == 0.0278
    assert "← favours rechallenge" in text and "favours control →" in text
    assert "prediction interval = CI, not drawn" in text  # FE: said in the legend
    assert "95% prediction interval" not in text
    assert "revision 4 (2025-03-01) · livemeta 0.1.0" in text
    ticks = [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "xtick"]
    assert ticks == ["0.5", "0.75", "1", "1.5", "2"]
    assert fig.axes[0].get_xscale() == "log"
    # each label centred under its tick mark, at the tick's data position
    boxes = dict(drawn_texts(fig))
    ax = fig.axes[0]
    for t in ("0.5", "1", "2"):
        x = ax.transData.transform((float(t), 0))[0]
        assert abs((boxes[t].x0 + boxes[t].x1) / 2 - x) < 0.5


def test_forest_favours_labels_sit_either_side_of_the_null_line():
    fig = plots.forest_plot(os_result(), footer="")
    boxes = dict(drawn_texts(fig))
    ax = fig.axes[0]
    x_null = ax.transData.transform((1.0, 0))[0]
    assert boxes["← favours rechallenge"].x1 <= x_null
    assert boxes["favours control →"].x0 >= x_null
    xlabel = boxes["Hazard ratio (log scale)"]
    assert xlabel.y1 <= boxes["favours control →"].y0  # axis title below the favours labels


def test_forest_random_effects_draws_prediction_interval():
    res = os_result(id="os_re", method="REML", test="knha")
    text = all_text(plots.forest_plot(res, footer=""))
    o = res.overall
    assert "95% prediction interval" in text
    assert f"[{math.exp(o.pi_low):.2f}, {math.exp(o.pi_high):.2f}]" in text
    assert f"Test for overall effect: t(6) = {o.stat:.2f}" in text
    assert "tau²" in text


def test_forest_subgroups():
    res = os_result(id="os_by_class", subgroup="treatment_class")
    text = all_text(plots.forest_plot(res, footer=""))
    sg = res.subgroups
    for heading in ("antiangiogenic (k = 2)", "dual checkpoint (k = 1)", "multitarget TKI (k = 4)"):
        assert heading in text
    assert text.count("Subtotal (95% CI)") == 3
    assert "Total (95% CI)" in text
    assert "Heterogeneity: not applicable (k = 1)" in text
    assert (f"Test for subgroup differences: Q = {sg.q_between:.2f}, df = 2, p = {sg.q_between_p:.2f}"
            in text.replace(",\np", ", p"))  # the note may wrap, an equation never
    p = sg.subgroups["multitarget_tki"]
    assert f"{math.exp(p.estimate):.2f} [{math.exp(p.ci_low):.2f}, {math.exp(p.ci_high):.2f}]" in text
    assert "Treatment class" not in text  # the subgroup column is not repeated as a column


def test_forest_or_rr_and_proportion_axes():
    text = all_text(plots.forest_plot(or_result(), footer=""))
    assert "← favours control" in text and "favours rechallenge →" in text
    assert "23/187" in text and "0/180" in text  # events per arm, zero cell included
    text = all_text(plots.forest_plot(rr_result(), footer=""))
    assert "← more AEs with control" in text and "more AEs with rechallenge →" in text
    fig = plots.forest_plot(prop_result(), footer="")
    text = all_text(fig)
    assert "favours" not in text and "no difference" not in text
    assert fig.axes[0].get_xscale() == "linear"
    assert "%" in next(t.get_text() for t in fig.axes[0].texts if t.get_gid() == "xlabel")
    assert "11/68" in text and "16.2 [8.4, 27.1]" in text  # exact (Clopper-Pearson), not the logit 9.2-26.9
    assert "Test for overall effect" not in text  # meaningless for a response rate
    # the long arm labels keep their arm description (the trial name is shortened instead)
    assert "low-dose fractionated radiotherapy" in text.replace("\n", " ")


def test_forest_height_grows_with_rows_and_long_labels_are_cut():
    small = plots.forest_plot(os_result(), footer="")
    big = plots.forest_plot(big_result(30), footer="")
    assert big.get_size_inches()[1] > small.get_size_inches()[1] + 4
    texts = [t for t, _ in drawn_texts(big) if t.startswith("A deliberately")]
    assert texts and all(len(t.split("\n")) <= 3 for t in texts)
    assert any("…" in t for t in texts)  # beyond three lines, an ellipsis


def test_forest_clips_intervals_beyond_the_axis():
    res = big_result()
    fig = plots.forest_plot(res, footer="")
    lo, hi = fig.axes[0].get_xlim()
    assert lo >= 0.0099 and hi <= 101
    markers = [ln.get_marker() for ln in fig.axes[0].lines]
    assert "<" in markers or ">" in markers  # arrows at the axis limit


def test_forest_empty_result():
    res = make_result(hr_frame([]), id="os_primary")
    fig = plots.forest_plot(res, footer="revision 4")
    assert "No studies in this analysis" in all_text(fig)


def test_funnel_small_k_says_egger_not_computed():
    fig = plots.funnel_plot(os_result(), footer="revision 4 · livemeta 0.1.0")
    text = all_text(fig)
    assert "Egger's test not computed (k < 10)" in text
    ax = fig.axes[0]
    assert ax.get_ylim()[0] > ax.get_ylim()[1] == 0  # standard error axis inverted, 0 at the top
    assert ax.get_xscale() == "log"
    assert overlapping(fig) == [] and outside(fig) == []


def test_funnel_prints_both_egger_variants_when_k_at_least_10():
    res = big_result(12)
    fig = plots.funnel_plot(res, footer="")
    text = all_text(fig).replace("\n", " ")
    eg = egger_test(res.studies["yi"], res.studies["vi"], method="REML", test="knha")
    assert f"t({eg.rma.df}) = {eg.rma.stat:.2f}" in text
    assert f"intercept = {eg.classical.intercept:.2f}" in text
    assert f"t({eg.classical.df}) = {eg.classical.t:.2f}" in text
    assert "not computed" not in text
    assert overlapping(fig) == [] and outside(fig) == []


def test_funnel_proportions_on_logit_axis():
    fig = plots.funnel_plot(prop_result(), footer="")
    assert fig.axes[0].get_xscale() == "logit"
    assert overlapping(fig) == []


def test_cumulative_plot_from_cumulative_table_rows():
    table = pd.DataFrame({
        "step": [1, 2, 3], "trial_id": ["a", "b", "c"], "label": ["Lung-MAP S1800A", "KEYVIBE-002", "LEAP-008"],
        "first_published": [2022, 2023, 2023], "k": [1, 2, 3], "estimate": [0.69, 0.71, 0.84],
        "ci_low": [0.51, 0.56, 0.71], "ci_high": [0.93, 0.91, 0.99], "p": [0.01, 0.01, 0.04],
        "tau2": [0, 0, 0], "i2": [0.0, 0.0, 46.0]})
    fig = plots.cumulative_plot(table, title="OS", measure="HR", footer="revision 4 · livemeta 0.1.0")
    text = all_text(fig)
    assert "+ Lung-MAP S1800A (2022)" in text and "+ LEAP-008 (2023)" in text
    assert "0.84 [0.71, 0.99]" in text and "46%" in text
    assert overlapping(fig) == [] and outside(fig) == []
    rows = [{"trial": "X", "year": 2020, "estimate": 0.2, "ci_low": 0.1, "ci_high": 0.35}]
    fig = plots.cumulative_plot(rows, title="ORR", measure="proportion", footer="")
    assert "20.0 [10.0, 35.0]" in all_text(fig)


# ----------------------------------------------------------------------------------- saving
def test_save_writes_png_at_150_dpi_and_svg(tmp_path):
    fig = plots.forest_plot(os_result(), footer="revision 4")
    png, svg = plots.save(fig, tmp_path / "sub" / "forest_os")
    assert png.name == "forest_os.png" and svg.name == "forest_os.svg"
    w, h = png_size(png)
    fw, fh = fig.get_size_inches()
    assert abs(w - fw * 150) <= 2 and abs(h - fh * 150) <= 2
    text = svg.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<?xml") and "<svg" in text and text.rstrip().endswith("</svg>")
    assert svg.stat().st_size > 10_000
    # text stays text (searchable, selectable), in DejaVu Sans or, where it is missing, narrower fonts
    assert ">Overall survival, PD-(L)1 rechallenge vs control (RCTs)</text>" in text
    assert "font-family: 'DejaVu Sans', 'Bitstream Vera Sans', 'Arial', 'Liberation Sans', 'Helvetica', sans-serif" in text
    assert "text-anchor: end" in text  # right-aligned columns stay aligned in any font
    from PIL import Image

    with Image.open(png) as im:
        assert im.mode == "RGB"  # opaque: no alpha channel


# ------------------------------------------------------------------------- bundled database
@pytest.fixture(scope="module")
def bundled_results(bundled_db):
    from livemeta import api

    return api.pool(bundled_db).results


@pytest.mark.slow
def test_every_figure_kind_of_the_bundled_database_keeps_its_texts_apart(bundled_results):
    """The forest plot's checks on every kind of figure the report draws: no two texts overlap, none
    runs off the figure, no title is cut (baujat_pfs once printed two trial names on top of each
    other, bubble_os_by_partner four, and both bubble plots cut their titles), and axes read as
    words ('minimum prior PD-(L)1 exposure required (months)', not 'min prior io months'). Every
    analysis's forest plot, with the report's footer, and funnel plot too (nothing drawn into the
    forest's panel)."""
    from livemeta.living.cumulative import cumulative_rows
    from livemeta.pooling.influence import influence

    assert bundled_results
    drawn = set()
    for res in bundled_results:
        forest = plots.forest_plot(res, footer=f"revision {res.revision} · livemeta 0.1.0")
        assert overlapping(forest) == [] and outside(forest) == [], res.spec.id
        if not res.k:
            continue
        assert into_panel(forest) == [], res.spec.id
        spec = res.spec
        figs = {"forest": forest, "funnel": plots.funnel_plot(res, footer="")}
        if res.k >= 2 and res.subgroups is None:
            figs["cumulative"] = plots.cumulative_plot(cumulative_rows(res), title=spec.title, measure=spec.measure,
                                                       footer="x")
        if res.k >= 3 and res.subgroups is None and spec.method != "GLMM":  # as the report (no influence() of a GLMM)
            infl = influence(res.studies["yi"].to_numpy(float), res.studies["vi"].to_numpy(float),
                             method=spec.method, test=spec.test, level=spec.level)
            figs["baujat"] = plots.baujat_plot(res, infl, footer="x")
        if spec.moderators:
            figs["bubble"] = plots.bubble_plot(res, footer="x")
        if res.monitoring is not None:
            figs["monitoring"] = plots.monitoring_plot(res.monitoring.main, title=spec.title, measure=spec.measure,
                                                       footer="x")
        for kind, fig in figs.items():
            assert overlapping(fig) == [], (spec.id, kind, overlapping(fig))
            assert outside(fig) == [], (spec.id, kind, outside(fig))
            text = all_text(fig)
            if kind not in ("forest", "cumulative", "funnel"):  # (these cut study labels to their column, by design;
                # a funnel plot has no title of its own)
                assert "…" not in text, (spec.id, kind)
                assert " ".join(spec.title.split()) in " ".join(text.split()), (spec.id, kind)
            words = re.sub(r"rma\([^)]*\)", "", text)  # (the model in R's own words stays R's)
            assert "min prior io months" not in words and "treatment_class" not in words, (spec.id, kind)
            drawn.add(kind)
    assert drawn == {"forest", "funnel", "cumulative", "baujat", "bubble", "monitoring"}
    pfs = next(r for r in bundled_results if r.spec.id == "pfs")
    infl = influence(pfs.studies["yi"].to_numpy(float), pfs.studies["vi"].to_numpy(float), method="FE")
    assert {"KEYVIBE-002", "SAFFRON-301", "LEAP-008"} <= set(all_text(plots.baujat_plot(pfs, infl)).splitlines())
    by_io = next(r for r in bundled_results if r.spec.id == "os_by_prior_io")
    assert "minimum prior PD-(L)1 exposure" in all_text(plots.bubble_plot(by_io)).splitlines()  # its axis, in words
