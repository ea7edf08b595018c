"""The report's sections beyond the analyses, on a fictional project with risk-of-bias assessments,
a GRADE file and two versions, and on the bundled evidence: what's new, the GRADE summary of
findings, the PRISMA flow, study characteristics with references, risk of bias (plots, the
sensitivity analysis without high risk of bias, 'not assessed' for the bundled trials), and the
figures a second report keeps."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from livemeta import api
from livemeta.project import load_project
from livemeta.reports import plots, prisma, rob_plots

from ..fictional import ROB2_OVERALL, fictional_project, fictional_study
from ..mdtext import plain
from ._layout import all_text, outside, overlapping
from .test_report import _parse

GRADE = """grade: 1
outcomes:
  - analysis: os
    outcome: Overall survival
    importance: critical
    baseline: {from: control_arms, kind: median, landmark: 12}
    imprecision: {threshold: 1, effect: 0.80}
    judgements:
      risk_of_bias: {rating: serious, reason: "61% of the weight from trials at high risk (fictional)", by: A. Reviewer}
      indirectness: {rating: not_serious, reason: "the question's population and comparators (fictional)"}
      publication_bias: {rating: not_serious, reason: "registries searched (fictional)"}
  - analysis: orr
    outcome: Objective response
    baseline: {from: control_arms, kind: risk}
    imprecision: {effect: 1.25}
"""
SCREENING = {"identified": {"databases": 412, "registers": 37}, "duplicates_removed": 61, "screened": 388,
             "excluded_at_screening": 350, "reports_assessed": 38, "reports_excluded": {"no PD-(L)1 rechallenge": 29},
             "source": "fictional search log"}


def git(root, *args):
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


@pytest.fixture(scope="module")
def fict(tmp_path_factory):
    """Nine fictional RCTs with robvis's RoB 2 judgements (revision 3), named version fict-1 with
    screening counts, a GRADE file (revision 4: analyses only), then a tenth trial (revision 5)."""
    proj = fictional_project(tmp_path_factory.mktemp("fict") / "review")
    api.version_add("fict-1", description="first fictional version", project=proj)
    doc = yaml.safe_load(proj.file.read_text())
    doc["versions"][0]["screening"] = SCREENING
    doc["grade"] = "grade.yaml"
    proj.file.write_text(yaml.safe_dump(doc, sort_keys=False))
    (proj.root / "grade.yaml").write_text(GRADE)
    git(proj.root, "add", "livemeta.yaml", "grade.yaml")
    git(proj.root, "commit", "-q", "-m", "screening counts and GRADE judgements")
    proj = load_project(proj.root)  # with its GRADE file
    path = proj.studies / "study-10.yaml"
    path.write_text(yaml.safe_dump(fictional_study(10), sort_keys=False))
    api.ingest([path], message="add Study 10", project=proj)
    out = tmp_path_factory.mktemp("out") / "report"
    labels = {}
    real = plots.forest_plot

    def spy(result, *, footer):
        labels[result.spec.id] = list(result.studies["label"])
        return real(result, footer=footer)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(plots, "forest_plot", spy)
        mp.setenv("LIVEMETA_REPORT_WORKERS", "1")  # drawn here, where the spy is
        index = api.report(proj.database, out, project=proj)
    return {"proj": proj, "out": out, "page": index.read_text(), "md": (out / "report.md").read_text(),
            "labels": labels}


def section(page: str, anchor: str) -> str:
    start = page.index(f'id="{anchor}"')
    nxt = page.find("<h2", start)
    return page[start: nxt if nxt > 0 else None]


def test_whats_new_lists_the_added_trial_since_the_version(fict):
    new = section(fict["page"], "new")
    assert "Changes since version fict-1 (revision 3 to revision 5)" in new
    assert "revision 4 — analyses only (grade.yaml, livemeta.yaml) — " in new and "— add Study 10" in new
    assert re.search(r"Study 10 \[<a class=\"cite\" href=\"#ref-\d+\">\d+</a>\]: added", new)
    assert "No analysis changed its conclusion" in new or "Analyses whose conclusion changed" in new


def test_grade_summary_of_findings(fict):
    sof = section(fict["page"], "sof")
    md = plain(fict["md"])
    row = next(line for line in md.splitlines() if line.startswith("| Overall survival (critical)"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    # risk of bias serious (reviewed), imprecision serious (proposed: the CI of the random-effects model
    # os_re, which the heterogeneity calls for, includes 1), the other domains not serious: low
    assert cells[5] == "⊕⊕◯◯ low (a, b)"
    assert "- a. Overall survival, risk of bias: serious (−1), reviewed: 61% of the weight" in md
    assert "- b. Overall survival, imprecision: serious (−1), proposed by the rule: 95% CI 0.82–1.02 (os_re: REML, " \
           "HKSJ: the heterogeneity" in md
    # the main CI excludes 1, os_re's includes it: the comment and the footnote say so, with the estimate
    assert "Not robust: the main analysis's CI, HR 0.92 (0.85–0.99), excludes 1; in 1 declared sensitivity " \
           "analysis it includes 1: OS, random effects (REML, Hartung-Knapp-Sidik-Jonkman) [os_re]: HR 0.92 (0.82–1.02)" in cells[6]
    assert re.match(r"\d+ per 1,000 \(deaths by 12 months\); median \d+\.\d months", cells[1])
    assert "HR 0." in cells[3] and cells[4].endswith("(10 RCTs)")
    orr = next(line for line in md.splitlines() if line.startswith("| Objective response"))
    # k = 10: publication bias is computed; risk of bias of ORR and indirectness are not judged
    assert "not rated" in orr and "Not rated: risk of bias, indirectness not assessed." in orr
    assert orr.split("|")[2].strip().endswith("per 1,000 (responders)")
    assert "61% of the weight from trials at high risk (fictional) (A. Reviewer)" in sof
    assert "The rules of the computed domains" in sof and "optimal information size" in sof


def test_prisma_flow_has_a_column_per_version_with_the_recorded_counts(fict):
    page = section(fict["page"], "prisma")
    assert 'src="figures/prisma_flow.svg"' in page
    assert "<th>fict-1 (revision 3)</th>" in page and "<th>revision 5 (living)</th>" in page
    assert "449 (databases 412, registers 37)" in page and "fictional search log" in page
    assert "New trials included</td><td>9 (9 RCTs, 0 single-arm)</td><td>1 (1 RCT, 0 single-arm)" in page
    assert "Records identified</td><td>449 (databases 412, registers 37)</td><td>not recorded" in page


def test_characteristics_and_references_every_row_cites(fict):
    page = fict["page"]
    chars = page[page.index("Characteristics of the studies"):page.index('id="rob"')]
    assert chars.count('class="cite"') >= 10  # every trial cites its source
    refs = section(page, "references")
    assert '<li id="ref-1">' in refs and "doi.org/10.9999/synthetic" in refs and "pubmed.ncbi.nlm.nih.gov/" in refs
    # every forest-plot row names its reference number, as the reference list numbers it
    assert len(fict["labels"]["os"]) == 10 and all(re.fullmatch(r"Study \d+ \[\d+\]", lbl) for lbl in fict["labels"]["os"])
    n = int(re.search(r"\[(\d+)\]", next(lbl for lbl in fict["labels"]["os"] if lbl.startswith("Study 4 "))).group(1))
    assert re.search(rf'<li id="ref-{n}">Author A et al. J Clin Oncol 2024;42:1-10\. <a href="https://doi.org/10.9999/synthetic.00004.0">',
                     refs)


def test_risk_of_bias_section_plots_and_sensitivity(fict):
    rob = section(fict["page"], "rob")
    assert 'src="figures/rob_rob2_os_traffic_light.svg"' in rob and 'src="figures/rob_rob2_os_summary.svg"' in rob
    assert "weighted by analysis os" in rob and "Study 10" in rob and "not assessed" in rob
    os_sec = section(fict["page"], "a-os")
    assert "Without trials at high risk of bias" in os_sec
    high = ROB2_OVERALL.count("high")
    assert f"9 of 10 studies assessed; {high} at high risk left out; 1 not assessed kept" in os_sec


def test_rob_and_prisma_figures_do_not_overlap(fict):
    import pandas as pd

    frame = pd.DataFrame({"study": [f"Study {i} [{i}]" for i in range(1, 10)]}
                         | {f"d{d}_judgement": ["low"] * 9 for d in range(1, 6)}
                         | {"overall_judgement": ROB2_OVERALL})
    fig = rob_plots.traffic_light(frame, tool="rob2", title="Risk of bias (RoB 2): overall survival", footer="x")
    assert overlapping(fig) == [] and outside(fig) == []
    assert "D1: Bias arising from the randomisation process" in all_text(fig)
    w = pd.Series(range(1, 10), index=frame["study"], dtype=float)
    fig = rob_plots.summary_plot(frame, tool="rob2", title="Summary", weights=w, footer="x")
    assert overlapping(fig) == [] and outside(fig) == []
    from livemeta.importers import robvis

    from ..fictional import ROBINS_I_CSV

    parsed = robvis.parse(ROBINS_I_CSV.read_text(), "robins", "robins_i")
    robins = pd.DataFrame([{"study": r.study} | {("overall" if k == "Overall" else k.lower()) + "_judgement": v
                                                 for k, v in r.judgements.items()} for r in parsed])
    fig = rob_plots.traffic_light(robins, tool="robins_i", title="Risk of bias (ROBINS-I): objective response",
                                  footer="x")
    assert overlapping(fig) == [] and outside(fig) == []
    assert "D7: Bias in selection of the reported result" in all_text(fig) and "!" in all_text(fig)  # critical
    shares = rob_plots.shares(frame, "rob2", w)
    assert shares.loc["overall_judgement", "high"] == pytest.approx(100 * (4 + 5 + 6 + 7 + 9) / 45)
    from livemeta.reports.gather import version_columns
    from livemeta.db import connect

    with connect(fict["proj"].database, read_only=True) as con:
        cols = version_columns(con, 4, {}, {"fict-1": SCREENING})
    fig = prisma.flow_figure([prisma.counts(c) for c in cols], title="Flow", footer="x")
    assert overlapping(fig) == [] and outside(fig) == []


def test_a_second_report_keeps_the_figures_whose_inputs_did_not_change(fict, tmp_path):
    proj = fict["proj"]
    out = tmp_path / "living"
    api.report(proj.database, out, project=proj)
    figs = out / "figures"
    before = {p.name: p.stat().st_mtime_ns for p in figs.glob("*.png")}
    api.report(proj.database, out, project=proj)
    assert {p.name: p.stat().st_mtime_ns for p in figs.glob("*.png")} == before  # nothing redrawn
    # a correction of Study 1's ORR counts: the ORR figures are redrawn, the OS ones kept
    path = proj.studies / "study-1.yaml"
    d = yaml.safe_load(path.read_text())
    orr = next(o for o in d["outcomes"] if o["endpoint"] == "orr")
    orr["experimental_events"] += 1
    orr["raw_text"] = "corrected"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    api.ingest([path], message="correct Study 1's ORR", project=proj, supersede=True)
    page = api.report(proj.database, out, project=proj).read_text()
    after = {p.name: p.stat().st_mtime_ns for p in figs.glob("*.png")}
    assert after["forest_os.png"] == before["forest_os.png"]
    assert after["rob_rob2_os_traffic_light.png"] == before["rob_rob2_os_traffic_light.png"]
    assert after["forest_orr.png"] != before["forest_orr.png"]
    assert "Forest plot, analysis os (k = 10). Drawn at revision 5 of" in page
    assert "its data are unchanged since" in page


def test_report_loads_matplotlib_only_to_draw_and_never_great_expectations(fict, tmp_path):
    """A report loads no validation (great_expectations); one that redraws no figure does not load
    matplotlib either (the figures are the report's cost; a report of unchanged data is quick). With
    worker processes drawing the figures, the process writing the report never loads matplotlib."""
    import os
    import sys
    import textwrap

    proj = fict["proj"]

    def run(out, workers):
        code = textwrap.dedent(f"""
            import sys
            from livemeta import api
            from livemeta.project import load_project
            api.report({str(proj.database)!r}, {str(out)!r}, project=load_project({str(proj.root)!r}))
            print("LOADED", sorted(m for m in ("great_expectations", "matplotlib") if m in sys.modules))
        """)
        env = {**os.environ, "LIVEMETA_REPORT_WORKERS": str(workers)}
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)

    here, drawn_apart = tmp_path / "report", tmp_path / "report-workers"
    # the module's report, one figure short: the first report draws that one, in its own process
    shutil.copytree(fict["out"], here)
    (here / "figures" / "forest_os.png").unlink()
    first = run(here, 1)
    assert "LOADED ['matplotlib']" in first.stdout, first.stdout + first.stderr
    again = run(here, 1)
    assert "LOADED []" in again.stdout, again.stdout + again.stderr
    assert (here / "figures" / "forest_os.svg").exists()
    apart = run(drawn_apart, 2)
    assert "LOADED []" in apart.stdout, apart.stdout + apart.stderr
    assert sorted(p.name for p in (drawn_apart / "figures").iterdir()) == sorted(p.name for p in (here / "figures").iterdir())


def test_a_report_that_fails_stops_the_workers_started_for_it(fict, tmp_path, monkeypatch):
    import multiprocessing as mp

    from livemeta.errors import LivemetaError

    monkeypatch.setenv("LIVEMETA_REPORT_WORKERS", "2")
    with pytest.raises(LivemetaError, match="nope"):
        api.report(fict["proj"].database, tmp_path / "r", as_of="nope", project=fict["proj"])
    assert mp.active_children() == []


def test_a_bad_grade_file_stops_the_report(fict, tmp_path):
    from livemeta.errors import ValidationFailed

    proj = fict["proj"]
    grade = proj.root / "grade.yaml"
    text = grade.read_text()
    try:
        grade.write_text(text.replace("rating: serious", "rating: grave"))
        with pytest.raises(ValidationFailed, match="grade.yaml: outcomes\\[0\\].judgements.risk_of_bias.rating"):
            api.report(proj.database, tmp_path / "r", project=proj)
    finally:
        grade.write_text(text)


# ------------------------------------------------------------------------------- the bundled base
@pytest.fixture(scope="module")
def bundled(bundled_report):
    return ((bundled_report / "index.html").read_text(encoding="utf-8"),
            (bundled_report / "report.md").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_bundled_report_has_every_section_and_no_guessed_judgement(bundled):
    page, md = bundled
    for anchor in ("new", "sof", "estimates", "prisma", "counts", "rob", "gaps", "references", "methods"):
        assert f'id="{anchor}"' in page, anchor
    assert "trials.csv" not in page and "trials.csv" not in md  # curation notes stay in the database
    assert "No trial has a risk-of-bias assessment at this revision" in page
    rob = section(page, "rob")
    assert rob.count("not assessed") >= 24 and "some concerns" not in rob and "rob-high" not in rob
    sof = section(page, "sof")
    for outcome in ("Overall survival", "Progression-free survival", "Objective response"):
        row = next(line for line in md.splitlines() if line.startswith(f"| {outcome} ("))
        assert "not rated" in row and "⊕" not in row
    assert re.search(r"Changes since version review-2025 \(revision 1 to revision \d+\)", page)
    assert "LATIFY [" in section(page, "new")
    assert "review-2025 (revision 1)" in section(page, "prisma") and "not recorded" in section(page, "prisma")
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/38552197/"' in section(page, "references")
    assert "CONTACT-01 [" in section(page, "counts")
    assert "PD-(L)1 alone" in page  # class none, named
    os_sec = section(page, "a-os")
    assert "not assessed: none of the 7 studies has a risk-of-bias judgement; nothing left out" in os_sec
    assert "only one subgroup (acquired) has data" in section(page, "a-os_by_resistance")
    # participants: the trials whose n is unknown are named, not counted
    unknown = re.findall(r"n unknown for ([^)]*)\)", sof)
    assert unknown and all(re.fullmatch(r"[A-Z][\w-]+(, [A-Z][\w-]+)*", u) for u in unknown), unknown
    assert "KEYVIBE-002" in unknown[0] and not re.search(r"\(1 RCTs|\b1 trials\b|\b1 studies\b", page)


@pytest.mark.slow
def test_bundled_report_html_is_well_formed_and_links_out_only_from_references(bundled):
    page, _ = bundled
    checker = _parse(page)
    assert checker.errors == [] and checker.stack == []
    refs = section(page, "references")
    outside_refs = page.replace(refs, "")
    assert not re.search(r'(src|href)="(https?:)?//', outside_refs)
    assert "<script" not in page.lower()


def _without_time(text: str) -> str:
    return re.sub(r"report made \d{4}-\d\d-\d\d \d\d:\d\d UTC", "report made …", text)


def test_a_report_drawn_while_its_analyses_are_computed_is_the_report_written_after_them(fict, tmp_path,
                                                                                          monkeypatch):
    """With workers started ahead, each analysis's section is written (and its figures handed to the
    workers) as soon as its results and its sensitivity analyses' are in, before the next analyses
    are computed; the document and the figures are those of a report written after all of them."""
    import livemeta.analysis as analysis
    from livemeta.reports import figures

    proj, events = fict["proj"], []
    real_run, real_add = analysis.run_analysis, figures.Figures.add
    monkeypatch.setattr(analysis, "run_analysis", lambda con, spec, *a, **k: events.append(("pooled", spec.id))
                        or real_run(con, spec, *a, **k))
    monkeypatch.setattr(figures.Figures, "add", lambda self, stem, *a, **k: events.append(("figure", stem))
                        or real_add(self, stem, *a, **k))
    monkeypatch.setenv("LIVEMETA_REPORT_WORKERS", "2")
    apart, here = tmp_path / "apart", tmp_path / "here"
    page = api.report(proj.database, apart, project=proj).read_text()
    first_figure = events.index(("figure", "forest_os"))
    assert ("pooled", "orr") in events[first_figure:]  # drawn while later analyses were computed
    monkeypatch.setenv("LIVEMETA_REPORT_WORKERS", "1")  # written after every analysis, drawn here
    events.clear()
    after = api.report(proj.database, here, project=proj).read_text()
    assert events.index(("figure", "forest_os")) > max(i for i, e in enumerate(events) if e[0] == "pooled")
    assert _without_time(page) == _without_time(after)
    assert _without_time((apart / "report.md").read_text()) == _without_time((here / "report.md").read_text())
    drawn = sorted(p.name for p in (apart / "figures").iterdir())
    assert drawn == sorted(p.name for p in (here / "figures").iterdir()) and len(drawn) > 10
    for name in drawn:
        if name.endswith(".png"):  # the same pixels from the workers as from the writing process
            assert (apart / "figures" / name).read_bytes() == (here / "figures" / name).read_bytes(), name


def test_groups_of_analyses_are_handed_out_in_order_once_complete():
    from types import SimpleNamespace

    from livemeta.reports.report import Arrivals, _group

    def result(id, of=None):
        return SimpleNamespace(spec=SimpleNamespace(id=id, sensitivity_of=of))

    a, b, a_re, c, b_re, orphan = (result("a"), result("b"), result("a_re", "a"), result("c"), result("b_re", "b"),
                                   result("x", "missing"))
    order = [a, b, a_re, c, b_re, orphan]
    arrivals = Arrivals([r.spec for r in order])
    handed = [[(m.spec.id, [s.spec.id for s in sens]) for m, sens in arrivals.arrive(r)] for r in order]
    assert handed == [[], [], [("a", ["a_re"])], [], [("b", ["b_re"]), ("c", [])], [("x", [])]]
    assert [(m.spec.id, [s.spec.id for s in sens]) for m, sens in _group(order)] == [
        ("a", ["a_re"]), ("b", ["b_re"]), ("c", []), ("x", [])]


@pytest.mark.slow
def test_bundled_report_says_where_the_conclusions_rest_on_a_judgement(bundled):
    """issue 23 items 2 and 5, issue 20 item 3: one prediction interval under one label in the GRADE
    footnotes and the pooled table; S1800A flagged beside every estimate that uses it; the SoF
    comment, the GRADE imprecision footnote and What's new name the sensitivity analyses that cross 1."""
    page, md = bundled
    md = plain(md)
    lines = md.splitlines()
    # the PFS inconsistency reads pfs_re's prediction interval, labelled, as the pooled table prints it
    pfs_re = next(line for line in lines if "(`pfs_re`)" in line and line.startswith("| ↳"))
    pi_cell = [c.strip() for c in pfs_re.strip("|").split("|")][4]
    assert pi_cell == "0.59–1.27 (REML, t(k-1) = t(4), HKSJ)"  # the table's cell and GRADE's words: one label
    assert "95% prediction interval 0.59–1.27 (pfs_re: REML, t(k-1) = t(4), HKSJ)" in md
    assert "0.66–1.14" not in md  # the normal-based interval the footnote printed before
    acq = next(line for line in lines if "(`os_acquired_re`)" in line and line.startswith("| ↳"))
    assert f"95% prediction interval {[c.strip() for c in acq.strip('|').split('|')][4].split(' (')[0]} (os_acquired_re: REML, t(k-1) = t(2), HKSJ)" in md
    # imprecision of PFS on the random-effects interval
    assert re.search(r"- [a-z]\. Progression-free survival, imprecision: serious \(−1\), proposed by the rule: 95% CI "
                     r"0\.71–1\.06 \(pfs_re: REML, HKSJ", md)
    os_row = next(line for line in lines if line.startswith("| Overall survival (critical)"))
    assert "Not robust: the main analysis's CI, HR 0.90 (0.82–0.99), excludes 1" in os_row
    assert "[os_s1800a_80]: HR 0.91 (0.83–1.01)" in os_row and "[os_s1800a_p]: HR 0.91 (0.83–1.01)" in os_row
    assert "Pools a flagged input: Lung-MAP S1800A (variance implies more events than patients randomised" in os_row
    imprecision = next(line for line in lines if line.startswith("- ") and "Overall survival, imprecision" in line)
    assert "Note: The main analysis's CI" in imprecision and "[os_s1800a_80]: HR 0.91 (0.83–1.01)" in imprecision
    new = section(page, "new")
    assert "Conclusions that a declared sensitivity analysis changes" in new and "[os_s1800a_p]: HR 0.91" in new
    assert "Lung-MAP S1800A (variance implies more events than patients randomised" in new
    estimates = section(page, "estimates")
    assert "flagged input: Lung-MAP S1800A" in estimates
    assert "Lung-MAP S1800A: its 95% CI 0.51–0.92 implies at least 167 events" in estimates
    os_row = next(line for line in lines if line.startswith("| Overall survival, PD-(L)1 rechallenge vs control (RCTs) (`os`)"))
    assert "flagged input: Lung-MAP S1800A" in os_row
    s80 = next(line for line in lines if "(`os_s1800a_80`)" in line)
    assert "flagged input" not in s80
    # the ORR imprecision in patients, not events / 4
    orr = next(line for line in lines if line.startswith("- ") and "Objective response, imprecision" in line)
    assert "954 participants vs OIS 4,626 patients" in orr and "events" not in orr
    # Methods states the prediction-interval formula, the zero-cell rules and why fixed effect is the main model
    methods = section(page, "methods")
    assert "Prediction intervals: estimate ± crit × sqrt(tau² + SE²)" in methods and "t on k - 1 df" in methods
    assert "Zero cells of proportions" in methods and "Clopper-Pearson" in methods and "Schwarzer" in methods
    assert "Why fixed effect: the main analyses pool by fixed effect" in methods
    assert re.search(r"I² of the fixed-effect analyses at this revision: 0% to 5\d%", methods)
    assert "Cochrane Handbook 10.11.5.1" in methods and "Röver" in methods
    rules = section(page, "sof")
    for source in ("GRADE guidelines 7", "GRADE guidelines 6", "GRADE guidelines 5", "Wetterslev", "Schoenfeld"):
        assert source in rules, source
