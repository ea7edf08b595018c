"""The static report: files written, figures referenced, summary table values, stamps, self-contained HTML."""

from __future__ import annotations

import datetime as dt
import math
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest


from ._builders import OS, hr_frame, make_result, png_size  # noqa: E402
from livemeta import __version__  # noqa: E402
from livemeta.analysis.run import AnalysisResult  # noqa: E402
from livemeta.analysis.spec import Published  # noqa: E402
from livemeta.pooling.effects import logit_proportion  # noqa: E402
from livemeta.reports import build_report  # noqa: E402
from livemeta.reports import plots  # noqa: E402
from livemeta.reports.report import cumulative_rows, summary_rows  # noqa: E402

REVISION = {"revision": 7, "date": dt.datetime(2025, 3, 1, 12, 30), "version": "9.8.7", "message": "add SAPPHIRE"}
STAMP = "revision 7 (2025-03-01 12:30) · livemeta 9.8.7"


def _result(df, **kw) -> AnalysisResult:
    return make_result(df, revision=7, **kw)


def _big(k=12) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    for i in range(k):
        est = float(np.exp(rng.normal(-0.1, 0.2)))
        half = float(rng.uniform(0.15, 0.5))
        rows.append((f"t{i:02d}", f"TRIAL-{i:02d}", round(est, 2), round(est * math.exp(-half), 2),
                     round(est * math.exp(half), 2), "multitarget_tki", "docetaxel", True, 2014 + i))
    return hr_frame(rows)


def _proportions() -> pd.DataFrame:
    df = pd.DataFrame({"trial_id": ["a", "b", "c"], "label": ["MRTX-500", "WJOG9616L", "AK104-202"],
                       "xi": [11, 5, 0], "ni": [68, 59, 23],
                       "treatment_class": ["multitarget_tki", "none", "bispecific"],
                       "verified": [True, True, True], "first_published": [2021, 2022, 2023]})
    es = logit_proportion(df.xi.to_numpy(float), df.ni.to_numpy(float))
    return df.assign(yi=np.asarray(es.yi, float), vi=np.asarray(es.vi, float))


@pytest.fixture(scope="module")
def results():
    os_pub = Published(0.91, 0.82, 0.99, 10, "OS HR 0.91 (95% CI 0.82-0.99), 10 RCTs, fixed effect")
    return [
        _result(hr_frame(OS), id="os", published=os_pub, title="Overall survival (RCTs)"),
        _result(hr_frame(OS), id="os_re", method="REML", test="knha", sensitivity_of="os", title="OS, random effects"),
        _result(hr_frame(OS), id="os_by_class", subgroup="treatment_class", title="OS by treatment class"),
        _result(hr_frame([]), id="os_primary", title="OS with primary resistance",
                published=Published(None, None, None, None, "no OS benefit with primary resistance")),
        _result(_big(12), id="pfs_big", title="PFS (twelve trials)"),
        _result(_proportions(), id="single_arm_orr", measure="proportion", method="REML",
                view="analysis_single_arm_orr", title="Single-arm ORR"),
    ]


@pytest.fixture(scope="module")
def gaps():
    return pd.DataFrame({
        "trial_id": ["leap-008", "sapphire", "wjog9616l"], "name": ["LEAP-008", "SAPPHIRE", "WJOG9616L"],
        "design": ["rct", "rct", "single_arm"], "inclusion": ["included"] * 3, "inclusion_reason": [None, None, None],
        "status": ["completed"] * 3, "has_os_hr": [True, True, False], "outcomes_recorded": [2, 3, 1],
        "missing": ["ORR counts per arm, grade >=3 TRAE counts per arm", "grade >=3 TRAE counts per arm", ""]})


@pytest.fixture(scope="module")
def counts():
    return pd.DataFrame({"design": ["rct", "rct", "single_arm"], "inclusion": ["included"] * 3,
                         "treatment_class": ["multitarget_tki", "antiangiogenic", "bispecific"], "trials": [4, 2, 1]})


@pytest.fixture(scope="module")
def built(tmp_path_factory, results, gaps, counts):
    """One full report (with gaps and counts) shared by the tests that only read it."""
    out = tmp_path_factory.mktemp("report") / "rep"
    steps, footers = [], []
    real = plots.forest_plot

    def spy(result, *, footer):
        footers.append(footer)
        return real(result, footer=footer)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(plots, "forest_plot", spy)
        mp.setenv("LIVEMETA_REPORT_WORKERS", "1")  # drawn here, where the spy is
        index = build_report(results, revision_info=REVISION, out_dir=out, gaps=gaps, counts=counts,
                             progress=steps.append)
    return {"index": index, "out": out, "steps": steps, "footers": footers,
            "page": index.read_text(encoding="utf-8"), "md": (out / "report.md").read_text(encoding="utf-8")}


class _Checker(HTMLParser):
    VOID = {"meta", "img", "br", "link", "hr", "input", "source", "wbr"}

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.tags = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()


def _parse(html_text: str) -> _Checker:
    c = _Checker()
    c.feed(html_text)
    c.close()
    return c


def test_report_files_and_figures(built, results):
    steps, page, md = built["steps"], built["page"], built["md"]
    assert built["index"] == built["out"] / "index.html"
    figs = built["out"] / "figures"
    for res in results:
        stem = f"forest_{res.spec.id}"
        if res.k == 0:
            assert not (figs / f"{stem}.png").exists()
            assert f"No forest plot for {res.spec.id}" in page
            continue
        w, h = png_size(figs / f"{stem}.png")
        assert w > 800 and h > 300
        svg = (figs / f"{stem}.svg").read_text(encoding="utf-8")
        assert "<svg" in svg and len(svg) > 10_000
        assert f'<img src="figures/{stem}.svg"' in page  # SVG in the HTML
        assert f"](figures/{stem}.png)" in md  # PNG in the Markdown
    # funnel only with k >= 10; a sentence otherwise
    assert (figs / "funnel_pfs_big.png").exists() and 'src="figures/funnel_pfs_big.svg"' in page
    assert not (figs / "funnel_os.png").exists()
    assert "No funnel plot: k = 7 &lt; 10" in page and "No funnel plot: k = 7 &lt; 10" in md  # escaped for Markdown
    # cumulative plots for main analyses without subgroups
    assert (figs / "cumulative_os.png").exists() and not (figs / "cumulative_os_by_class.png").exists()
    assert "forest forest_os" in steps and "analysis os" in steps and steps[-1] == "write report.md"


def test_report_stamps_revision_date_and_version(built):
    page, md, footers = built["page"], built["md"], built["footers"]
    assert "<title>PD-(L)1 rechallenge in advanced NSCLC: living meta-analysis, revision 7</title>" in page
    assert "Revision 7 of 2025-03-01 12:30 · livemeta 9.8.7" in page and "add SAPPHIRE" in page
    n_tables = page.count("<table>")
    assert n_tables >= 5 and page.count(f"<caption>Data: {STAMP}.</caption>") == n_tables
    assert md.count(f"*Data: {STAMP}.*") == n_tables
    assert footers and all("livemeta 9.8.7 · revision 7 of 2025-03-01 12:30" in f for f in footers)


def test_report_summary_of_findings_values(built, results):
    page, md = built["page"], built["md"]
    os_row = next(line for line in md.splitlines() if line.startswith("| Overall survival (RCTs) (`os`)"))
    cells = [c.strip() for c in os_row.strip("|").split("|")]
    assert cells[1:5] == ["k = 7; 7 of 10 RCTs", "HR 0.90 (0.82–0.99)", "0%", "= CI (fixed effect)"]
    assert cells[6] == "0.91 (0.82–0.99), 10 trials"
    assert cells[7] == "differs: estimate 0.90 vs 0.91"
    assert "k &lt; 10" in cells[8] and "includes unverified values (1 of 7)" in cells[8]
    # the sensitivity analysis sits right under its main analysis, with its prediction interval
    lines = md.splitlines()
    i = lines.index(os_row)
    assert lines[i + 1].startswith("| ↳ OS, random effects (`os_re`)")
    re_res = results[1].overall
    pi = f"{math.exp(re_res.pi_low):.2f}–{math.exp(re_res.pi_high):.2f}"
    assert pi in lines[i + 1] and "random effects (REML, HKSJ)" in lines[i + 1]
    # subgroups, proportions in percent, the empty analysis
    assert "| ↳ dual checkpoint | 1 trial | HR 0.76 (0.50–1.15) | — |" in md
    assert "subgroup differences p = " in md
    sa = next(line for line in lines if "(`single_arm_orr`)" in line)
    p = results[5].overall
    est = 100 / (1 + math.exp(-p.estimate))
    assert f"{est:.1f}% (" in sa and "single-arm data: no comparator" in sa
    assert "no data at this revision" in md
    assert "HR 0.90 (0.82–0.99)" in page and "HR 0.76 (0.50–1.15)" in page


def test_summary_rows_match_the_pooled_numbers(results):
    rows = summary_rows(results[2])
    assert [r["kind"] for r in rows] == ["main", "sub", "sub", "sub"]
    sg = results[2].subgroups.subgroups["multitarget_tki"]
    assert rows[3]["estimate"] == (f"HR {math.exp(sg.estimate):.2f} "
                                   f"({math.exp(sg.ci_low):.2f}–{math.exp(sg.ci_high):.2f})")


def test_report_gaps_and_counts(built):
    page = built["page"]
    gap_section = page[page.index('id="gaps"'):]
    assert "LEAP-008" in gap_section and "SAPPHIRE" in gap_section
    assert "grade &gt;=3 TRAE counts per arm" in gap_section
    assert "WJOG9616L" not in gap_section  # nothing missing
    assert "has_os_hr" not in gap_section and "has os hr" not in gap_section
    count_section = page[page.index('id="counts"'):page.index('id="a-os"')]
    assert "multitarget TKI" in count_section and "Totals by design" in count_section and "rct: 6" in count_section


def test_report_html_is_self_contained_and_well_formed(built):
    page, tmp_path = built["page"], built["out"]
    checker = _parse(page)
    assert checker.errors == [] and checker.stack == []
    assert "<script" not in page.lower() and "<link" not in page.lower()
    assert "<style>" in page
    for tag, attrs in checker.tags:
        for key in ("src", "href"):
            value = attrs.get(key)
            if value:
                assert not re.match(r"^[a-z]+:|^//", value), value  # relative links only, no network
                if key == "src" or not value.startswith("#"):
                    assert (tmp_path / value).exists(), value
    anchors = {attrs.get("id") for _, attrs in checker.tags if attrs.get("id")}
    for _, attrs in checker.tags:
        href = attrs.get("href", "")
        if href.startswith("#"):
            assert href[1:] in anchors, href


def test_report_uses_given_cumulative_rows(tmp_path, results):
    table = cumulative_rows(results[0])
    assert list(table["k"]) == list(range(1, 8))
    assert table["label"].iloc[0] == "Lung-MAP S1800A" and table["first_published"].iloc[-1] == 2025
    last = table.iloc[-1]
    o = results[0].overall
    assert math.isclose(last["estimate"], math.exp(o.estimate)) and math.isclose(last["ci_high"], math.exp(o.ci_high))
    out = tmp_path / "r"
    page = build_report([results[0], results[3]], revision_info=REVISION, out_dir=out, cumulative={"os": table},
                        gaps=None, counts=None).read_text()
    assert (out / "figures" / "cumulative_os.png").exists()
    assert 'id="gaps"' not in page and 'id="counts"' not in page  # not given: no sections


def test_report_accepts_a_revision_object(tmp_path, results):
    from livemeta.db.revisions import Revision

    rev = Revision(revision_id=3, created_at=dt.datetime(2025, 1, 2, 3, 4), author="me", message="m", kind="build",
                   livemeta_version="0.0.9")
    page = build_report(results[:1], revision_info=rev, out_dir=tmp_path).read_text()
    assert f"Revision 3 of 2025-01-02 03:04 · livemeta {__version__}" in page


@pytest.mark.slow
def test_report_from_bundled_database(bundled_db, tmp_path_factory):
    from livemeta import api

    db = bundled_db
    run = api.pool(db)
    revision = api.revisions(db)[-1]

    def view(name):
        q = api.query(db, f"SELECT * FROM {name}")
        return pd.DataFrame(q.rows, columns=q.columns)

    out = tmp_path_factory.mktemp("report")
    index = build_report(run.results, revision_info=revision, out_dir=out, gaps=view("evidence_gaps"),
                         counts=view("trial_counts"))
    page = index.read_text(encoding="utf-8")
    assert _parse(page).errors == []
    for res in run.results:
        if res.k and f"Forest plot of {res.spec.id}: the same studies, weights and pooled estimate" not in page:
            assert f'src="figures/forest_{res.spec.id}.svg"' in page
            assert png_size(out / "figures" / f"forest_{res.spec.id}.png")[0] > 800
    # os_by_resistance has one subgroup (acquired): its figures would be os_acquired's, drawn once
    assert ("Forest plot of os_by_resistance: the same studies, weights and pooled estimate as analysis "
            "os_acquired") in page
    os_res = next(r for r in run.results if r.spec.id == "os")
    o = os_res.overall
    assert f"HR {math.exp(o.estimate):.2f} ({math.exp(o.ci_low):.2f}–{math.exp(o.ci_high):.2f})" in page
    assert f"revision {run.revision}" in page


def test_importing_the_report_package_does_not_load_matplotlib():
    import subprocess
    import sys

    code = "import sys, livemeta.reports; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_figures_with_the_same_numbers_are_drawn_once_and_very_large_analyses_get_a_csv(tmp_path, monkeypatch):
    from livemeta.reports.report import FIGURE_MAX_ROWS

    monkeypatch.setenv("LIVEMETA_REPORT_WORKERS", "1")
    same = [_result(hr_frame(OS), id="os", title="OS"), _result(hr_frame(OS), id="os_copy", title="OS again")]
    rows = [(f"t{i:03d}", f"T-{i:03d}", 0.9, round(0.9 * math.exp(-0.1 - 0.02 * (i % 17)), 3),
             round(0.9 * math.exp(0.1 + 0.02 * (i % 17)), 3), "multitarget_tki", "docetaxel", True, 2015 + i % 8)
            for i in range(FIGURE_MAX_ROWS + 5)]
    big = _result(hr_frame(rows), id="big", title="A very large analysis")
    page = build_report([*same, big], revision_info=REVISION, out_dir=tmp_path).read_text()
    figs = tmp_path / "figures"
    assert (figs / "forest_os.png").exists() and not (figs / "forest_os_copy.png").exists()
    assert ("Forest plot of os_copy: the same studies, weights and pooled estimate as analysis os (its forest plot "
            "above); not drawn again.") in page
    assert (figs / "baujat_os.png").exists() and not (figs / "baujat_os_copy.png").exists()
    assert ("Baujat plot of os_copy: the same studies, weights and pooled estimate as analysis os (its Baujat plot "
            "above); not drawn again.") in page
    assert not (figs / "forest_big.png").exists() and (figs / "funnel_big.png").exists()
    table = pd.read_csv(figs / "forest_big.csv")
    assert len(table) == FIGURE_MAX_ROWS + 5 and list(table.columns) == [
        "study", "trial_id", "estimate", "ci_low", "ci_high", "weight_percent", "interval", "printed"]
    assert set(table["interval"]) == {"printed"}  # each CI is what was pooled: shown as printed
    assert table.loc[0, ["estimate", "ci_low", "ci_high"]].tolist() == [rows[0][2], rows[0][3], rows[0][4]]
    assert table["weight_percent"].sum() == pytest.approx(100)
    assert 'href="figures/forest_big.csv"' in page
    # the cumulative plot goes by publication year: 8 years, not 255 rows
    assert "One row per publication year (255 trials)." in page
    # a later report without the big analysis deletes its files
    build_report(same, revision_info=REVISION, out_dir=tmp_path)
    assert not (figs / "forest_big.csv").exists() and not (figs / "funnel_big.png").exists()
