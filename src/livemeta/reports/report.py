"""The static report: ``index.html`` and ``report.md`` with their figures (PNG and SVG).

:func:`build_report` writes, into ``out_dir``:

* ``index.html``: self-contained apart from the figure files (inline CSS, no JavaScript, nothing
  fetched from the network; the reference list links DOIs, PubMed and registry records), SVG
  figures referenced relatively (``figures/…svg``);
* ``report.md``: the same content with PNG figures (``figures/…png``);
* ``figures/``: a forest plot per analysis with data, a funnel plot per analysis with k >= 10, a
  cumulative forest plot per main analysis, the PRISMA flow and the risk-of-bias plots, each as PNG
  (150 dpi) and SVG. A figure whose inputs did not change since the last report written to the
  same folder is kept, not redrawn (:mod:`livemeta.reports.figures`).

With the report's other inputs (:class:`~livemeta.reports.gather.ReportInputs`) the report also has
what's new in this version, the GRADE summary of findings, the PRISMA flow, the characteristics of
the studies with a numbered reference list that every table and figure row cites, and the risk of
bias. The title, every table caption and every figure footer carry the revision, its date and the
livemeta version, so a figure copied out of the report still says what it shows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, is_dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__
from ..analysis.caveats import capped, flag_summary
from ..analysis.labels import pi_label
from ..analysis.present import trial_count, unit_note, unit_text
from ..living.cumulative import cumulative_by_year, cumulative_rows
from ..safe import frame_csv, md_code, md_text
from ..words import class_word, column_word, count
from . import display
from .doc import CSS, Doc, Html, finite, fmt_ci, fmt_date, fmt_p, nat, slug
from .figures import Figures, Workers

__all__ = ["build_report", "cumulative_rows", "summary_rows", "FUNNEL_MIN_K"]

FUNNEL_MIN_K = display.EGGER_MIN_K  # 10: below this a funnel plot and Egger's test are not informative
#: a cumulative plot adds one trial per row up to this many trials, then one publication year per row
CUMULATIVE_MAX_ROWS = 40
FIGURE_MAX_ROWS = display.FIGURE_MAX_ROWS
#: flagged inputs the report lists in full (beyond: how many more)
FLAGS_LISTED = 25


def _revision_info(info: Any, results: list) -> dict:
    """Normalise ``revision_info`` (a dict, or a Revision dataclass) to revision/date/version/note.

    A revision's note is the review's own words about it (its ``note``; the commit message is not
    one); a dict may give it as ``note`` or ``message``."""
    if is_dataclass(info) and not isinstance(info, type):
        info = asdict(info) | {"message": None}
    info = dict(info or {})
    rev = info.get("revision", info.get("revision_id"))
    if rev is None and results:
        rev = results[0].revision
    return {
        "revision": rev,
        "date": fmt_date(info.get("date", info.get("created_at"))),
        "version": str(info.get("version") or __version__),
        "written_by": info.get("livemeta_version"),
        "note": info.get("note") or info.get("message"),
        "label": info.get("label"),
        "author": info.get("author"),
    }


# --------------------------------------------------------------------------- pooled estimates
def _notes(result) -> list[str]:
    spec, o, k = result.spec, result.overall, result.k
    notes: list[str] = []
    if k == 0 or o is None:
        return ["no data at this revision"]
    if k == 1:
        notes.append("k = 1 (nothing pooled)")
    elif k < FUNNEL_MIN_K:
        notes.append("k < 10 (small-study effects not assessable)")
    if "verified" in result.studies.columns:
        unverified = int((~result.studies["verified"].map(display._is_true)).sum())
        if unverified:
            notes.append(f"includes unverified values ({unverified} of {k})")
    if k > 1 and finite(o.i2) and o.i2 >= 50:
        notes.append(f"substantial heterogeneity (I² {o.i2:.0f}%)")
    if spec.measure != "proportion" and o.method != "FE" and finite(o.pi_low) and finite(o.pi_high) \
            and o.pi_low < 0 < o.pi_high and k > 1:
        notes.append("prediction interval includes 1")
    if spec.measure == "proportion":
        notes.append("single-arm data: no comparator")
    if result.subgroups is not None:
        notes.append(f"subgroup differences p = {fmt_p(result.subgroups.q_between_p)}")
    if result.note:
        notes.append(result.note)
    if unit_note(result):
        notes.append(unit_note(result)[0].lower() + unit_note(result)[1:])
    if spec.ci_level == "alternative":
        notes.append("disputed CIs read at their alternative level")
    if not getattr(o, "converged", True):
        notes.append("estimator did not converge")
    notes += [f"flagged input: {f}" for f in flag_summary(result.input_flags, limit=3)]
    notes += [f"caveat: {c.short}" for c in result.caveats]
    return notes


def _published_text(spec) -> str:
    pub = spec.published
    if pub is None:
        return ""
    if pub.estimate is not None:
        txt = fmt_ci(pub.estimate, pub.ci_low, pub.ci_high)
        return txt + (f", {count(pub.trials, 'trial')}" if pub.trials else "")
    return pub.text or ""


def _comparison(result) -> str:
    try:
        from ..analysis.present import comparison

        return comparison(result)
    except Exception:  # the table still renders when the comparison cannot be made
        return ""


def _trials_text(result) -> str:
    """'k = 7; 7 of 10 RCTs', or with several cohorts per trial '6 of 106 single-arm trials (8 cohorts)'."""
    unit = unit_text(result)
    if unit:
        return f"k = {result.k}; {trial_count(result)} ({unit})"
    if result.k != len(result.trials):
        return f"{trial_count(result)} ({result.k} {'cohorts' if result.spec.measure == 'proportion' else 'comparisons'})"
    return f"k = {result.k}; {trial_count(result)}"


def summary_rows(result) -> list[dict]:
    """The summary rows of one analysis: its own, then one per subgroup.

    Strings as printed in the report (ratio scale, or percent for proportions).
    """
    spec, o = result.spec, result.overall
    percent = spec.measure == "proportion"
    lvl = f"{spec.level * 100:g}%"
    if o is None:
        est = pi = i2 = "—"
    else:
        s = spec.scale
        est = fmt_ci(nat(o.estimate, s), nat(o.ci_low, s), nat(o.ci_high, s), percent)
        est = est if percent else f"{spec.measure} {est}"
        i2 = f"{o.i2:.0f}%" if finite(o.i2) and result.k > 1 else "—"
        if o.method == "FE":
            pi = "= CI (fixed effect)"
        elif result.k > 1 and finite(o.pi_low) and finite(o.pi_high):
            pi = f"{display._fmt_ratio(nat(o.pi_low, s)) if not percent else f'{100 * nat(o.pi_low, s):.1f}'}–" \
                 f"{display._fmt_ratio(nat(o.pi_high, s)) if not percent else f'{100 * nat(o.pi_high, s):.1f}'}" \
                 f" ({pi_label(spec.method, spec.test, o.pi_dist, result.k)})"
        else:
            pi = "—"
    rows = [{
        "id": spec.id, "title": spec.title, "kind": "sens" if spec.sensitivity_of else "main",
        "trials": _trials_text(result), "estimate": est, "level": lvl, "i2": i2, "pi": pi,
        "method": display.method_label(spec.method, spec.test), "published": _published_text(spec),
        "comparison": _comparison(result), "notes": "; ".join(_notes(result)),
    }]
    if result.subgroups is not None:
        s = spec.scale
        groups = result.studies[spec.subgroup].fillna("(none)").astype(str)
        for g in result.subgroups.groups:
            p = result.subgroups.subgroups[g]
            e = fmt_ci(nat(p.estimate, s), nat(p.ci_low, s), nat(p.ci_high, s), percent)
            ntr = result.studies.loc[groups == str(g), "trial_id"].nunique()
            trials = count(ntr, "trial") + (f", {count(p.k, 'cohort')}" if p.k != ntr else "")
            rows.append({
                "id": f"{spec.id}:{g}", "title": display._pretty(g), "kind": "sub",
                "trials": trials, "estimate": e if percent else f"{spec.measure} {e}", "level": lvl,
                "i2": f"{p.i2:.0f}%" if finite(p.i2) and p.k > 1 else "—", "pi": "", "method": "",
                "published": "", "comparison": "",
                "notes": _one_study_note(result.studies[groups == str(g)], spec) if p.k == 1 else "",
            })
    return rows


def _one_study_note(rows: pd.DataFrame, spec) -> str:
    """'k = 1', and for one proportion what the study itself shows: its events of n with the exact
    interval (the row above is the logit model's, 1/2 added to a zero cell)."""
    if spec.measure != "proportion" or not {"xi", "ni"} <= set(rows.columns) or len(rows) != 1:
        return "k = 1"
    row = rows.iloc[0]
    est, lo, hi = display.exact_interval(row, spec.level)
    return (f"k = 1: {row['xi']:.0f}/{row['ni']:.0f}, {est:.1f}% (exact {spec.level * 100:g}% CI {lo:.1f}–{hi:.1f})"
            + ("; the logit model adds 1/2 to its zero cell" if row["xi"] in (0, row["ni"]) else ""))


_SOF_HEADER = ["Analysis", "Trials", "Estimate ({lvl} CI)", "I²", "{lvl} PI", "Method", "Published (review)",
               "vs published", "Notes"]


def _estimates_table(doc: Doc, rows: list[dict], caption: str, *, link: bool = True) -> None:
    """The pooled estimates: one row per analysis, sensitivity analyses and subgroups indented."""
    lvl = rows[0]["level"] if rows else "95%"
    header = [h.format(lvl=lvl) for h in _SOF_HEADER]
    cells, classes = [], []
    for r in rows:
        name = r["title"]
        if r["kind"] != "sub":
            inner = f'<a href="#a-{slug(r["id"])}">{html.escape(name)}</a>' if link else html.escape(name)
            name = Html(f"{inner}<br><code>{html.escape(r['id'])}</code>", f"{md_text(name)} ({md_code(r['id'])})")
        if r["kind"] in ("sens", "sub"):
            name = Html(f"↳ {name.html if isinstance(name, Html) else html.escape(name)}",
                        f"↳ {name.md if isinstance(name, Html) else md_text(name)}")
        cells.append([name, r["trials"], r["estimate"], r["i2"], r["pi"], r["method"], r["published"],
                      r["comparison"], r["notes"]])
        classes.append({"sens": "sens", "sub": "sub"}.get(r["kind"], ""))
    doc.table(header, cells, caption, num=(2, 3), row_classes=classes)


def _group(results: list) -> list[tuple[Any, list]]:
    """Main analyses in order, each with its sensitivity analyses; orphans stand alone."""
    arrivals = Arrivals([r.spec for r in results])
    return [group for r in results for group in arrivals.arrive(r)]


class Arrivals:
    """The groups of :func:`_group` (a main analysis with its sensitivity analyses, in the order of
    ``specs``), handed out in order as soon as every result of a group has arrived: a report can
    write an analysis's section while the next analyses are computed."""

    def __init__(self, specs: list):
        ids = {s.id for s in specs}
        self._mains = [s.id for s in specs if not (s.sensitivity_of and s.sensitivity_of in ids)]
        self._children: dict[str, list[str]] = {}
        for s in specs:
            if s.sensitivity_of and s.sensitivity_of in ids:
                self._children.setdefault(s.sensitivity_of, []).append(s.id)
        self._got: dict[str, Any] = {}
        self._next = 0

    def arrive(self, result) -> list[tuple[Any, list]]:
        """Record ``result``; the groups now complete (in order, each once)."""
        self._got[result.spec.id] = result
        out = []
        while self._next < len(self._mains):
            main = self._mains[self._next]
            members = [main, *self._children.get(main, [])]
            if not all(m in self._got for m in members):
                break
            out.append((self._got[main], [self._got[m] for m in members[1:]]))
            self._next += 1
        return out


# ------------------------------------------------------------------------------ the report
@dataclass
class _Context:
    """What every section needs: the document, the figures, the stamps, the references."""

    doc: Doc
    figs: Figures
    info: dict
    caption: str
    step: Callable[[str], None]
    refs: Any = None  # References when the report has its inputs
    inputs: Any = None  # ReportInputs
    drawn: dict = dataclasses.field(default_factory=dict)  # (kind, numbers) -> analysis id drawn with them

    def same_as(self, kind: str, result) -> str | None:
        """The analysis whose figure of ``kind`` would be this one's (same studies, weights and
        pooled numbers); None when this one is new (and is now registered)."""
        key = (kind, _numbers(result))
        if key in self.drawn:
            return self.drawn[key]
        self.drawn[key] = result.spec.id
        return None

    def footer(self, what: str) -> Callable[[str], str]:
        """A figure footer: livemeta, the revision the figure shows (its stamp) and what it is."""
        return lambda stamp: f"livemeta {self.info['version']} · {stamp} · {what}".replace(" ·  · ", " · ")

    def figure(self, stem: str, kind: str, alt: str, caption: str, *args, what: str, rows: int = 0, **kw) -> None:
        kept = self.figs.add(stem, kind, *args, footer=self.footer(what), rows=rows, **kw)
        if kept and kept != self.figs.stamp:
            caption += f" Drawn at {kept}; its data are unchanged since."
        self.doc.figure(stem, alt, caption)


def build_report(
    results: list,
    *,
    revision_info: Mapping | Any,
    out_dir: Path | str,
    gaps: pd.DataFrame | None = None,
    counts: pd.DataFrame | None = None,
    cumulative: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
    inputs: Any = None,
    workers: Workers | None = None,
) -> Path:
    """Write the report into ``out_dir``; returns the path of ``index.html``.

    Parameters
    ----------
    results
        :class:`~livemeta.analysis.run.AnalysisResult` objects, main analyses with their
        sensitivity analyses (``spec.sensitivity_of``) in any order.
    revision_info
        ``{"revision": 3, "date": datetime, "version": "0.1.0", "note": ...}`` (a
        :class:`~livemeta.db.revisions.Revision` or its ``asdict()`` works too: ``revision_id``,
        ``created_at``). The version defaults to the running livemeta's.
    gaps
        The ``evidence_gaps`` view (trials known to exist whose data are missing); None: omitted.
    counts
        The ``trial_counts`` view (trials by design, inclusion and treatment class); None: omitted.
    cumulative
        ``{analysis id: rows}`` for :func:`~livemeta.reports.plots.cumulative_plot`; None: computed
        here (:func:`cumulative_rows`) for every main analysis without subgroups with k >= 2.
    progress
        Called with the name of each step (for a progress bar).
    inputs
        A :class:`~livemeta.reports.gather.ReportInputs`: what's new, GRADE, PRISMA, study
        characteristics, references and risk of bias; None: those sections are omitted.
    workers
        Figure-drawing processes already started (:meth:`~livemeta.reports.figures.Workers.ahead_of`);
        None: started when there are figures to draw. They are closed when the report is written.
    """
    writer = ReportWriter(revision_info=revision_info, out_dir=out_dir, inputs=inputs, cumulative=cumulative,
                          progress=progress, workers=workers, results=results)
    try:
        for main, sens in _group(results):
            writer.add(main, sens)
        return writer.finish(results, gaps=gaps, counts=counts)
    finally:
        writer.close()


class ReportWriter:
    """:func:`build_report` in steps, for a report written as its analyses are computed.

    :meth:`add` writes one main analysis's section (with its sensitivity analyses) and hands its
    figures to the workers at once, so that they are drawn while the next analyses are computed;
    :meth:`finish` writes the sections before and after the analyses (they need every result), waits
    for the figures and writes the files. The document is the same whatever the pace of the calls.
    :meth:`close` stops the figure workers (a report that failed). The parameters are
    :func:`build_report`'s (``results``: only to find the revision when ``revision_info`` lacks it).
    """

    def __init__(self, *, revision_info: Mapping | Any, out_dir: Path | str, inputs: Any = None,
                 cumulative: Mapping[str, Any] | None = None, progress: Callable[[str], None] | None = None,
                 workers: Workers | None = None, results: list = ()):
        self.out_dir = Path(out_dir)
        info = _revision_info(revision_info, list(results))
        self.stamp = f"revision {info['revision']} ({info['date']}) · livemeta {info['version']}"
        figs = Figures(self.out_dir / "figures", f"revision {info['revision']} of {info['date']}", ready=workers)
        self.ctx = _Context(Doc(), figs, info, f"Data: {self.stamp}.", progress or (lambda _name: None),
                            inputs=inputs)
        if inputs is not None:
            from .characteristics import trial_order
            from .references import References

            self.ctx.refs = References(inputs.view("sources"), trial_order(inputs.view("trials")))
        self.cumulative = cumulative
        self.groups: list[tuple[Any, list]] = []

    def add(self, main, sens: list) -> None:
        """Write the section of ``main`` and its sensitivity analyses ``sens`` (in the report's order)."""
        self.ctx.step(f"analysis {main.spec.id}")
        self.groups.append((main, sens))
        _analysis_section(self.ctx, main, sens, self.cumulative)

    def finish(self, results: list, *, gaps: pd.DataFrame | None = None, counts: pd.DataFrame | None = None) -> Path:
        """The title and the sections around the analyses, the figures, the files; the path of
        ``index.html``."""
        ctx = self.ctx
        analyses, ctx.doc = ctx.doc, Doc()
        generated = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        title = _write_title(ctx, self.groups, generated, gaps is not None, counts is not None)
        before, after = _sections(ctx, results, self.groups, gaps, counts)
        for name, write in before:
            ctx.step(name)
            write()
        ctx.doc.extend(analyses)
        for name, write in after:
            ctx.step(name)
            write()
        ctx.step("figures")
        ctx.figs.render(ctx.step)
        return _write_files(ctx, self.out_dir, title, self.stamp, generated)

    def close(self) -> None:
        """Stop the worker processes drawing figures (closing twice is harmless)."""
        self.ctx.figs.close()


def _sections(ctx: _Context, results, groups, gaps, counts) -> tuple[list, list]:
    """The sections before the analyses and after them, in order, each a step of the progress bar;
    those without inputs left out."""
    inputs = ctx.inputs
    before: list[tuple[str, Callable[[], None]]] = []
    if inputs is not None:
        before.append(("what's new", lambda: _write_whats_new(ctx, results)))
        if inputs.grade is not None:
            before.append(("summary of findings", lambda: _write_grade(ctx, results)))
    before.append(("pooled estimates", lambda: _write_estimates(ctx, groups)))
    if inputs is not None and inputs.versions:
        before.append(("PRISMA flow", lambda: _write_prisma(ctx)))
    if inputs is not None and getattr(inputs, "screening", None):
        before.append(("screening", lambda: _write_screening(ctx)))
    if counts is not None or inputs is not None:
        before.append(("studies", lambda: _write_studies(ctx, counts)))
    if inputs is not None:
        before.append(("risk of bias", lambda: _write_rob(ctx, results)))
    after: list[tuple[str, Callable[[], None]]] = []
    if gaps is not None:
        after.append(("evidence gaps", lambda: _write_gaps(ctx, gaps)))
    if ctx.refs is not None:
        after.append(("references", lambda: _write_references(ctx)))
    after.append(("methods", lambda: _write_methods(ctx, results)))
    return before, after


def _write_title(ctx: _Context, groups, generated: str, has_gaps: bool, has_counts: bool) -> str:
    """The title, the stamp, the revision's message and the contents."""
    info, doc, inputs = ctx.info, ctx.doc, ctx.inputs
    title = f"PD-(L)1 rechallenge in advanced NSCLC: living meta-analysis, revision {info['revision']}"
    doc.heading(1, title)
    doc.para(f"Revision {info['revision']} of {info['date']} · livemeta {info['version']} · report made {generated}",
             "stamp")
    if info.get("label"):
        doc.para(f"Revision {info['revision']}: {info['label']}" + ("" if info.get("note") else "; no revision note"),
                 "stamp")
    if info.get("note"):
        doc.para(f"Revision note: {info['note']}" + (f" ({info['author']})" if info.get("author") else ""), "lead")
    sections = []
    if inputs is not None:
        sections.append(("new", "What's new in this version"))
        if inputs.grade is not None:
            sections.append(("sof", "Summary of findings (GRADE)"))
    sections.append(("estimates", "Pooled estimates"))
    if inputs is not None and inputs.versions:
        sections.append(("prisma", "Flow of trials (PRISMA 2020)"))
    if inputs is not None and getattr(inputs, "screening", None):
        sections.append(("screening", "Screening"))
    if has_counts or inputs is not None:
        sections.append(("counts", "Included trials and their characteristics"))
    if inputs is not None:
        sections.append(("rob", "Risk of bias"))
    sections += [(f"a-{slug(r.spec.id)}", r.spec.title) for r, _ in groups]
    if has_gaps:
        sections.append(("gaps", "Evidence gaps"))
    if inputs is not None:
        sections.append(("references", "References"))
    sections.append(("methods", "Methods"))
    doc.html.append("<nav><strong>Contents</strong><ol>" + "".join(
        f'<li><a href="#{a}">{html.escape(t)}</a></li>' for a, t in sections) + "</ol></nav>")
    doc.md += ["**Contents:** " + " · ".join(md_text(t) for _, t in sections), ""]
    return title


def _write_whats_new(ctx: _Context, results) -> None:
    from .whatsnew import write_robustness, write_whats_new

    ctx.doc.heading(2, "What's new in this version", "new")
    write_whats_new(ctx.doc, ctx.inputs.whats_new, ctx.inputs.whats_new_label, ctx.refs,
                    {r.spec.id: r.spec.title for r in results})
    write_robustness(ctx.doc, results)


def _write_grade(ctx: _Context, results) -> None:
    from .sof import write_sof

    ctx.doc.heading(2, "Summary of findings (GRADE)", "sof")
    ctx.doc.para("PD-(L)1 rechallenge compared with control for advanced NSCLC after progression on PD-(L)1 "
                 f"immunotherapy. Certainty of the evidence by GRADE, from the reviewed judgements of "
                 f"{ctx.inputs.grade_file} and livemeta's rules for the computable domains (below).")
    write_sof(ctx.doc, {r.spec.id: r for r in results}, ctx.inputs, ctx.caption)


def _write_estimates(ctx: _Context, groups) -> None:
    ctx.doc.heading(2, "Pooled estimates", "estimates")
    ctx.doc.para("Pooled estimates on the ratio scale (proportions in percent) with the review's published figure "
                 "beside each. Sensitivity analyses (↳) follow their main analysis; subgroups are indented.")
    rows = []
    for main, sens in groups:
        rows += summary_rows(main)
        for s in sens:
            rows += summary_rows(s)[:1]
    _estimates_table(ctx.doc, rows, ctx.caption)
    _flagged_inputs(ctx.doc, [r for main, sens in groups for r in (main, *sens)])


def _flagged_inputs(doc: Doc, results: list) -> None:
    """Each implausible input once, with the analyses that pool it (livemeta.analysis.caveats)."""
    uses: dict[str, list[str]] = {}
    for r in results:
        for f in r.input_flags:
            uses.setdefault(f.text, []).append(r.spec.id)
    if not uses:
        return
    doc.para("Flagged inputs: values the analyses pool as printed although, as read, they cannot all be right "
             "(a hazard ratio's variance implies at least 4 / variance events, more than the patients randomised; "
             "its interval implies another P than the one printed, beyond rounding). They are kept, as the analyses "
             "declare, and flagged beside every estimate that uses them; the sensitivity analyses read them otherwise.",
             "note")
    doc.bullets(capped([f"{text} (analyses {', '.join(dict.fromkeys(ids))})" for text, ids in uses.items()],
                       FLAGS_LISTED, "flagged inputs (livemeta pool --json lists every one)"))


def _write_prisma(ctx: _Context) -> None:
    from . import prisma

    doc = ctx.doc
    flows = [prisma.counts(c) for c in ctx.inputs.versions]
    doc.heading(2, "Flow of trials (PRISMA 2020)", "prisma")
    doc.para("One column per named version of the review, and the living revision after the last one. The counts of "
             "the search are counted from the records of the search runs each version added (searches/ in the "
             "project; each record placed by its de-duplication and screening decisions as of that version), else "
             "those the project file records for the version (screening: under the version in livemeta.yaml), "
             "'not recorded' otherwise, never estimated; the trials are the database's as of each version.")
    ctx.figure("prisma_flow", "prisma", "PRISMA 2020 flow diagram, one column per version",
               "PRISMA 2020 flow of trials, one column per version.", flows,
               title="Flow of trials (PRISMA 2020), one column per version of the review", what="PRISMA flow")
    header, rows = prisma.table(flows)
    doc.table(header, rows, ctx.caption)


def _write_screening(ctx: _Context) -> None:
    """Screening progress per stage, the reviewers' agreement and the time recorded."""
    from ..screening.files import STAGE_NAMES

    doc, sc = ctx.doc, ctx.inputs.screening
    doc.heading(2, "Screening", "screening")
    doc.para("Records screened at title and abstract (every record that is not a duplicate) and at full text (those "
             "passed to it), as of this revision. A record is decided when the reviewers the protocol asks for agree, "
             "or a consensus decision settles it; agreement is Cohen's kappa between the first two independent "
             "reviewers of each record (include, exclude and maybe as categories).")
    header = ["Stage", "Records", "Included", "Excluded", "Maybe", "Not screened", "Awaiting a reviewer",
              "In conflict", "Conflicts resolved", "Records with two reviewers", "Cohen's kappa",
              "Median seconds per decision (timed)"]
    rows = []
    for stage in ("ta", "ft"):
        s = sc["stages"].get(stage)
        if s is None:
            continue
        pairs, kappa = sc["kappa"].get(stage, (0, None))
        rows.append([STAGE_NAMES[stage], str(s["records"]), str(s["included"]), str(s["excluded"]), str(s["maybe"]),
                     str(s["undecided"]), str(s["awaiting"]), str(s["conflicts"]), str(s["resolved"]), str(pairs),
                     "—" if kappa is None else f"{kappa:.3f}",
                     "not recorded" if not s["timed"] else f"{s['median_seconds']:.0f} ({s['timed']})"])
    doc.table(header, rows, ctx.caption)


def _write_studies(ctx: _Context, counts) -> None:
    doc = ctx.doc
    doc.heading(2, "Included trials and their characteristics", "counts")
    if counts is not None:
        if len(counts):
            doc.para("Trials by design, inclusion status and treatment class of the PD-(L)1 partner "
                     "(a trial with arms of two classes counts in both).")
            shown = counts.assign(treatment_class=counts["treatment_class"].map(class_word)) \
                if "treatment_class" in counts.columns else counts
            doc.frame(shown, ctx.caption)
            if "trials" in counts.columns and "design" in counts.columns:
                by = counts.groupby("design", sort=False)["trials"].sum()
                doc.para("Totals by design (arm-class rows summed): " +
                         ", ".join(f"{d}: {int(n)}" for d, n in by.items()) + ".")
        else:
            doc.para("No trials in the database at this revision.")
    if ctx.inputs is not None:
        from .characteristics import write_characteristics

        doc.heading(3, "Characteristics of the studies")
        doc.para("Every trial the database holds, by design, included trials first; numbers in brackets are the "
                 "references. Curation notes stay in the database (livemeta query).", "notes")
        write_characteristics(doc, ctx.inputs, ctx.refs, ctx.caption)


def _write_rob(ctx: _Context, results) -> None:
    from .rob import write_rob

    ctx.doc.heading(2, "Risk of bias", "rob")
    write_rob(ctx, results)


def _write_gaps(ctx: _Context, gaps: pd.DataFrame) -> None:
    doc = ctx.doc
    doc.heading(2, "Evidence gaps", "gaps")
    view = _gaps_view(gaps, ctx.refs)
    if len(view):
        doc.para(f"{count(len(view), 'trial')} known to exist do not contribute to every analysis: what is missing "
                 "and why. These gaps are data too: they say where the estimates above may be incomplete.")
        doc.frame(view, ctx.caption)
    else:
        doc.para("No gaps: every known trial contributes the data its design allows.")


_GAP_COLUMNS = ["name", "trial", "trial_id", "design", "inclusion", "status", "missing"]


def _gaps_view(gaps: pd.DataFrame, refs=None) -> pd.DataFrame:
    """The trials whose data are missing, with what is missing (from ``evidence_gaps``); the
    inclusion reasons are curation notes and stay in the database."""
    df = gaps.copy()
    if "missing" in df.columns:
        df = df[df["missing"].fillna("").astype(str).str.strip() != ""]
    keep = [c for c in _GAP_COLUMNS if c in df.columns]
    if "name" in keep and "trial" in keep:
        keep.remove("trial")
    if keep and "missing" in keep:
        df = df[keep]
    if refs is not None and "name" in df.columns and "trial_id" in df.columns:
        df = df.assign(name=[refs.cite(n, t) for n, t in zip(df["name"], df["trial_id"])])
    return df.reset_index(drop=True)


def _write_references(ctx: _Context) -> None:
    ctx.doc.heading(2, "References", "references")
    ctx.doc.para("The sources of every trial the report names, numbered as the tables and figures cite them.", "notes")
    ctx.refs.write(ctx.doc)


def _fixed_effect_heterogeneity(results) -> str:
    """'I² from 0% to 55%' over the fixed-effect analyses with k >= 2 (their I² from Q)."""
    i2 = [r.overall.i2 for r in results if r.spec.method == "FE" and r.overall is not None and r.k > 1
          and finite(r.overall.i2)]
    if not i2:
        return ""
    return f" (I² of the fixed-effect analyses at this revision: {min(i2):.0f}% to {max(i2):.0f}%)"


def _write_methods(ctx: _Context, results=()) -> None:
    from ..analysis.caveats import METAREG_PER_MODERATOR, RE_MIN_K
    from ..analysis.monitoring import methods_texts

    doc = ctx.doc
    doc.heading(2, "Methods", "methods")
    texts = [
        "Pooling: inverse-variance weights on the log scale (hazard, odds and risk ratios) or the logit scale "
        "(single-arm response proportions, back-transformed to percent). The estimator and test of each analysis "
        "are those of queries/analyses.yaml (metafor rma equivalents); Knapp-Hartung (HKSJ) tests are shown as t. "
        "Proportions may also be pooled by the binomial-normal generalised linear mixed model (method GLMM: metafor "
        "rma.glmm(measure = 'PLO'), maximum likelihood by adaptive Gauss-Hermite quadrature; Stijnen, Hamza & "
        "Özdemir 2010; Schwarzer et al. 2019).",
        "Why fixed effect: the main analyses pool by fixed effect (inverse variance) because they reproduce the "
        "published review, which did; its estimate is the one the review's readers compare" + _fixed_effect_heterogeneity(
            results) + ". Where heterogeneity is moderate (I² of 30-60%) the fixed-effect interval is too narrow for "
        "the spread of the trials' effects, so each main analysis of hazard ratios has a declared random-effects sensitivity analysis (REML, "
        "HKSJ) beside it; GRADE judges imprecision on the random-effects interval whenever that model estimates "
        "heterogeneity, and where the two models, or any declared sensitivity analysis, lead to different "
        "conclusions, the summary of findings and What's new say so with both estimates.",
        "Prediction intervals: estimate ± crit × sqrt(tau² + SE²) of the random-effects model (Higgins, Thompson & "
        "Spiegelhalter 2009; metafor's predict()), crit from t on k - 1 df under the Hartung-Knapp test, the "
        "normal otherwise, or t on k - 2 df where an analysis asks for it; each is labelled with its estimator and "
        "distribution, and the GRADE footnotes read the same interval from the same pooled result as the tables. "
        "Under a fixed-effect model it equals the CI.",
        "Zero cells of proportions: the inverse-variance model on logits adds 1/2 to the responders and the "
        "non-responders of a cohort with none of either (metafor escalc, to = 'only0'): 0 of 23 becomes 2.1% "
        "(0.1-25.9%); the GLMM takes the binomial likelihood as it is, without correction. The single-arm response "
        "analysis with subgroups by partner class is REML on logits (the GLMM here pools without subgroups); the "
        "GLMM is its declared sensitivity analysis where analyses.yaml has one. Study rows of proportions (forest "
        "plots, single-study subgroups) show the events of n with exact Clopper-Pearson intervals (0 of 23: 0% "
        "(0-14.8%)), whatever the model.",
        f"Few studies: a random-effects model on fewer than {RE_MIN_K} studies is marked (tau² is poorly estimated; "
        "the HKSJ interval is very wide, a z interval too narrow; Röver, Knapp & Friede 2015; Bender et al. 2018), "
        f"and a meta-regression with fewer than {METAREG_PER_MODERATOR} studies per moderator is exploratory "
        "(Cochrane Handbook 10.11.5.1). The prior-exposure moderators are coded from what each trial's eligibility "
        "required: a minimum time on, or benefit from, prior PD-(L)1 ('required', with its months) or none ('none "
        "required', no months: no requirement is not a requirement of 0 months).",
        "Implausible inputs: a hazard ratio whose variance implies more events than patients randomised (4 / "
        "variance is the fewest events any allocation allows) or whose interval implies another P than the one "
        "printed, every printed number allowed its rounding, is flagged at validation and beside every estimate "
        "that pools it; it is kept as the analyses declare, and the sensitivity analyses that read it otherwise "
        "are shown beside.",
        "Forest plots: squares have areas proportional to the study weight; study intervals are the published "
        "ones where the analysis reads them at its level, otherwise computed from the pooled yi and vi. The "
        "prediction interval is drawn for random-effects models (under a fixed-effect model it equals the CI).",
        f"Funnel plots and Egger's test are shown only for analyses with k ≥ {FUNNEL_MIN_K}: below that the test "
        "has too little power to be informative. The regression test is metafor's regtest default (the SE as "
        "moderator in the analysis's model), with the classical Egger (1997) regression beside it.",
        "2x2 tables with a zero cell get 1/2 added to every cell (escalc add=1/2, to='only0').",
        f"Cumulative plots add trials by first publication date (ties by trial id) with the analysis's own method; "
        f"beyond {CUMULATIVE_MAX_ROWS} trials, one row per publication year (every trial of that year added).",
    ]
    if ctx.inputs is not None:
        texts += [
            "Risk of bias: RoB 2 for randomised trials (five domains), ROBINS-I for non-randomised evidence (seven), "
            "per trial and outcome, by two assessors with a consensus (the consensus is used; a single assessor's "
            "judgement is said so; two without a consensus are not used). A trial without an assessment is shown "
            "as not assessed, never judged here. The sensitivity analysis without high risk of bias leaves out "
            "trials judged high (RoB 2) or serious or critical (ROBINS-I) and keeps those not assessed.",
            "GRADE: certainty starts high for randomised and low for non-randomised evidence and goes down one level "
            "per serious and two per very serious concern; a domain neither judged in the GRADE file nor computable "
            "makes the outcome not rated. The rules of the computed domains, with their sources, are listed under the "
            "summary of findings. Absolute effects of a hazard ratio assume exponential survival in the control arm "
            "and proportional hazards; those of an odds ratio are risks by construction; those of a risk ratio are "
            "the risk ratio times the control risk, bounded at 1,000 per 1,000 (said where it binds).",
        ]
    texts += methods_texts([r for r in results if r.monitoring is not None])
    for text in texts:
        doc.para(text)


def _write_files(ctx: _Context, out_dir: Path, title: str, stamp: str, generated: str) -> Path:
    """The footer, then index.html and report.md."""
    doc = ctx.doc
    doc.html.append(f"<footer>{html.escape(stamp)} · report made {html.escape(generated)}</footer>")
    doc.md += ["---", f"*{md_text(stamp)} · report made {md_text(generated)}*", ""]
    ctx.step("write index.html")
    page = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            + "\n".join(doc.html) + "\n</body>\n</html>\n")
    index = out_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    ctx.step("write report.md")
    (out_dir / "report.md").write_text("\n".join(doc.md), encoding="utf-8")
    return index


# ------------------------------------------------------------------------------ one analysis
def _cited(ctx: _Context, result):
    """The result with each study label followed by its references ('CONTACT-01 [3]')."""
    if ctx.refs is None or result.k == 0:
        return result
    st = result.studies
    src = st["source_id"] if "source_id" in st.columns else [None] * len(st)
    labels = [f"{lbl} {ctx.refs.cite_text(t, s)}".rstrip() for lbl, t, s in zip(st["label"], st["trial_id"], src)]
    return dataclasses.replace(result, studies=st.assign(label=labels))


def _analysis_section(ctx: _Context, main, sens: list, cumulative: Mapping | None) -> None:
    """One main analysis: its summary row, forest, funnel and cumulative plots, its meta-regression,
    influence and sequential monitoring where it has them, then its sensitivity analyses (and the
    one without trials at high risk of bias) beside it."""
    doc, spec = ctx.doc, main.spec
    doc.heading(2, spec.title, f"a-{slug(spec.id)}")
    filters = ", ".join(f"{k} = {v}" for k, v in spec.filters.items())
    doc.para(f"Analysis {spec.id}: {display.MEASURE_NAMES.get(spec.measure, (spec.measure,))[0].lower()}, "
             f"{display.method_label(spec.method, spec.test)}, {spec.level * 100:g}% CI; view {spec.view}"
             + (f" ({filters})" if filters else "") + (f"; subgroups by {spec.subgroup}" if spec.subgroup else "")
             + ".", "notes")
    _estimates_table(doc, summary_rows(main), ctx.caption, link=False)
    if spec.published is not None and spec.published.text:
        doc.para(f"The review: {spec.published.text}.", "notes")
    if main.note:
        doc.para(f"Note: {main.note}.", "note")
    for line in capped([f.text for f in main.input_flags], FLAGS_LISTED, "flagged inputs"):
        doc.para(f"Flagged input: {line}.", "note")
    for c in main.caveats:
        doc.para(f"Caveat: {c.text}.", "note")
    _forest(ctx, main)
    _funnel(ctx, main)
    _cumulative(ctx, main, cumulative)
    _metaregression(ctx, main)
    _influence(ctx, main)
    _monitoring(ctx, main)
    rob_variant = (ctx.inputs.rob_variants.get(spec.id) if ctx.inputs is not None else None)
    if sens or rob_variant is not None:
        _sensitivity(ctx, main, sens, rob_variant)


def _numbers(result) -> tuple:
    """What a figure of an analysis shows, as numbers: its studies, weights and pooled results."""
    st = result.studies
    cols = [c for c in ("trial_id", "label", "yi", "vi", "weight") if c in st.columns]
    o = result.overall
    pooled = None if o is None else (o.estimate, o.ci_low, o.ci_high, o.pi_low, o.pi_high, o.tau2, o.method, o.test)
    sub = None if result.subgroups is None else (result.spec.subgroup, repr(result.subgroups))
    return result.spec.measure, result.spec.level, tuple(map(tuple, st[cols].to_numpy())), pooled, sub


def _same_note(ctx: _Context, what: str, result, other: str) -> None:
    noun = what if what.startswith("Baujat") else what.lower()  # a name keeps its capital
    ctx.doc.para(f"{what} of {result.spec.id}: the same studies, weights and pooled estimate as analysis {other} "
                 f"(its {noun} above); not drawn again.", "note")


def _funnel(ctx: _Context, main) -> None:
    spec = main.spec
    if main.k >= FUNNEL_MIN_K and main.overall is not None:
        other = ctx.same_as("funnel", main)
        if other is not None:
            _same_note(ctx, "Funnel plot", main, other)
            return
        ctx.figure(f"funnel_{slug(spec.id)}", "funnel", f"Funnel plot: {spec.title}",
                   f"Funnel plot with Egger's regression tests, analysis {spec.id} (k = {main.k}).", main,
                   what=f"analysis {spec.id}", rows=main.k // 4)
    elif main.k > 0:
        ctx.doc.para(f"No funnel plot: k = {main.k} < {FUNNEL_MIN_K}. With fewer than {FUNNEL_MIN_K} studies a funnel "
                     "plot cannot distinguish small-study effects from chance, and Egger's test is not computed.", "note")


def _cumulative(ctx: _Context, main, cumulative: Mapping | None) -> None:
    """The cumulative forest plot: one row per trial, or per publication year beyond
    :data:`CUMULATIVE_MAX_ROWS` trials; not drawn again for an analysis with the same numbers."""
    spec = main.spec
    rows, note = None, ""
    if cumulative is not None:
        rows = cumulative.get(spec.id)
    elif main.subgroups is None and main.k >= 2:
        other = ctx.same_as("cumulative", main)
        if other is not None:
            _same_note(ctx, "Cumulative plot", main, other)
            return
        if main.k > CUMULATIVE_MAX_ROWS:
            rows, note = cumulative_by_year(main), f" One row per publication year ({count(main.k, 'trial')})."
        else:
            rows = cumulative_rows(main)
    if rows is None or not len(rows):
        return
    ctx.figure(f"cumulative_{slug(spec.id)}", "cumulative", f"Cumulative forest plot: {spec.title}",
               f"Cumulative meta-analysis by first publication date, analysis {spec.id}.{note}", rows,
               title=spec.title, measure=spec.measure, level=spec.level, what=f"analysis {spec.id}", rows=len(rows))


def _metaregression(ctx: _Context, result) -> None:
    """The meta-regression of an analysis with moderators: coefficients, test, bubble plot."""
    from ..analysis.present import metareg_summary

    doc, table_caption, spec = ctx.doc, ctx.caption, result.spec
    if not spec.moderators:
        return
    doc.heading(3, f"Meta-regression on {', '.join(map(column_word, spec.moderators))}")
    m = metareg_summary(result)
    if result.metareg is None:
        doc.para(f"No meta-regression at this revision: {m['note']}.", "note")
        return
    ratio = spec.scale == "log"
    header = ["coefficient", "what it estimates", "exp(coefficient) [CI]" if ratio else "estimate [CI]", "p"]
    rows = []
    for c in m["coefficients"]:
        est = (c["ratio"], c["ratio_ci_low"], c["ratio_ci_high"]) if ratio else (c["estimate"], c["ci_low"], c["ci_high"])
        rows.append([c["name"], c["label"], fmt_ci(*est), fmt_p(c["p"])])
    t = m["test_of_moderators"]
    stat = f"F({t['df']}, {t['df2']}) = {t['statistic']:.2f}" if t["distribution"] == "F" else f"QM({t['df']}) = {t['statistic']:.2f}"
    r2 = f"; R² = {m['r2']:.0f}%" if m["r2"] is not None else ""
    doc.para(f"rma(yi, vi, mods = ~ {' + '.join(spec.moderators)}), {display.method_label(spec.method, spec.test)}; "
             f"test of moderators {stat}, {fmt_p(t['p'])}{r2}; k = {m['k']}.", "notes")
    doc.table(header, rows, table_caption)
    if m["note"]:
        doc.para(m["note"], "note")
    ctx.figure(f"bubble_{slug(spec.id)}", "bubble", f"Bubble plot: {spec.title}",
               f"Meta-regression, analysis {spec.id} (k = {m['k']}).", result, what=f"analysis {spec.id}", rows=m["k"])


def _influence(ctx: _Context, result) -> None:
    """metafor's influence() of the pooled model as a Baujat plot (k >= 3, no subgroups)."""
    from ..pooling.influence import influence

    doc, spec = ctx.doc, result.spec
    if result.k < 3 or result.overall is None or result.subgroups is not None or spec.method == "GLMM":
        return  # (metafor's influence() is of rma models; a GLMM has none)
    try:
        infl = influence(result.studies["yi"].to_numpy(float), result.studies["vi"].to_numpy(float),
                         method=spec.method, test=spec.test, level=spec.level)
    except ValueError:
        return
    flagged = [str(lab) for lab, f in zip(result.studies["label"], infl.is_infl) if f]
    doc.html.append(f"<details><summary>Influence of each trial (Baujat plot){': ' + html.escape(', '.join(flagged)) + ' flagged' if flagged else ''}</summary>")
    other = ctx.same_as("baujat", result)  # the same studies and model: the same influence
    if other is not None:
        _same_note(ctx, "Baujat plot", result, other)
    else:
        ctx.figure(f"baujat_{slug(spec.id)}", "baujat", f"Baujat plot: {spec.title}",
                   f"Contribution of each trial to heterogeneity against its influence on the pooled estimate, analysis "
                   f"{spec.id}; flagged as influential by metafor's influence() rules: {', '.join(flagged) or 'none'}.",
                   result, infl, what=f"analysis {spec.id}", rows=result.k)
    doc.html.append("</details>")


def _monitoring(ctx: _Context, result) -> None:
    """Sequential monitoring (secondary) of an analysis with a ``monitoring:`` block in the analyses
    file: its settings, rules and conclusions (at the target and at the pooled CI limit), the looks,
    the notes on its inputs, the plot."""
    from ..analysis.monitoring import monitoring_table, summary_lines

    doc, table_caption, spec = ctx.doc, ctx.caption, result.spec
    if not spec.monitoring or result.k == 0:
        return
    doc.heading(3, "Sequential monitoring (secondary analysis)")
    run = result.monitoring
    if run is None:
        doc.para(f"No sequential monitoring: {result.monitoring_note}", "note")
        return
    mon = run.main
    lines = summary_lines(run, spec.measure)
    doc.para("Trial sequential analysis by first publication. " + " ".join(lines[:4]), "notes")
    doc.para(" ".join(lines[4:6]) + " A secondary analysis: it guards the repeated looks of a living review; "
             "the estimate is the forest plot's.", "notes")
    for note in lines[6:]:
        doc.para(note, "note")
    table = monitoring_table(result, mon)

    def bound(v):
        return "not tested" if v != v else f"{v:.2f}"
    shown = pd.DataFrame({
        "look": table["look"], "trials added": table["trials_added"], "k": table["k"],
        "information": table["information"].map(lambda v: f"{v:.1f}"),
        "fraction": table["fraction"].map(lambda v: f"{v:.2f}"),
        spec.measure: table["ratio"].map(lambda v: f"{v:.2f}"), "z": table["z"].map(lambda v: f"{v:.2f}"),
        "boundary": table["efficacy_bound"].map(bound), "crossed": table["crossed"]})
    doc.frame(shown, table_caption)
    ctx.figure(f"monitoring_{slug(spec.id)}", "monitoring", f"Trial sequential analysis: {spec.title}",
               f"Sequential monitoring (secondary), analysis {spec.id}: cumulative z ({mon.model} model), boundaries, "
               f"required information; target {spec.measure} {math.exp(mon.target):.2f}.",
               mon, title=spec.title, measure=spec.measure, what=f"analysis {spec.id}", rows=len(table))


def _sensitivity(ctx: _Context, main, sens: list, rob_variant) -> None:
    doc, spec = ctx.doc, main.spec
    doc.heading(3, f"Sensitivity analyses of {spec.id}")
    doc.para("Each varies one judgement of the main analysis; compare with the main row.")
    rows = summary_rows(main)[:1] + [summary_rows(s)[0] for s in sens]
    rows[0] = {**rows[0], "title": f"Main: {rows[0]['title']}"}
    if rob_variant is not None:
        row = summary_rows(rob_variant)[0]
        row["title"] = "Without trials at high risk of bias (computed for the report, not stored)"
        row["notes"] = _rob_variant_note(main, rob_variant) + ("; " + row["notes"] if row["notes"] else "")
        rows.append(row)
    _estimates_table(doc, rows, ctx.caption, link=False)
    for s in sens:
        doc.html.append(f"<details><summary>Forest plot: {html.escape(s.spec.title)} "
                        f"(<code>{html.escape(s.spec.id)}</code>)</summary>")
        _forest(ctx, s, anchor=f"a-{slug(s.spec.id)}")
        doc.html.append("</details>")


def _rob_variant_note(main, variant) -> str:
    st = main.studies
    if "rob_overall" not in st.columns:
        return ""
    assessed = int(st["rob_overall"].notna().sum())
    left_out = main.k - variant.k
    if assessed == 0:
        return f"not assessed: none of the {count(main.k, 'study')} has a risk-of-bias judgement; nothing left out"
    return (f"{assessed} of {count(main.k, 'study')} assessed; {left_out} at high risk left out; "
            f"{main.k - assessed} not assessed kept")


def _forest(ctx: _Context, result, anchor: str | None = None) -> None:
    spec = result.spec
    if result.k == 0 or result.overall is None:
        ctx.doc.para(f"No forest plot for {spec.id}: no study contributes data to it at this revision.", "note")
        return
    if anchor:
        ctx.doc.html.append(f'<span id="{html.escape(anchor)}"></span>')
    other = ctx.same_as("forest", result)
    if other is not None:
        _same_note(ctx, "Forest plot", result, other)
        return
    if result.k > FIGURE_MAX_ROWS:
        _study_table(ctx, _cited(ctx, result))
        return
    ctx.figure(f"forest_{slug(spec.id)}", "forest", f"Forest plot: {spec.title}",
               f"Forest plot, analysis {spec.id} (k = {result.k}).", _cited(ctx, result), what=f"analysis {spec.id}",
               rows=result.k)


def _study_table(ctx: _Context, result) -> None:
    """The studies of a very large analysis as a CSV file beside the figures, instead of a forest
    plot tens of inches tall."""
    from ..analysis.studies import study_table

    spec = result.spec
    shown = study_table(result)
    scale = 100.0 if spec.measure == "proportion" else 1.0  # proportions in percent, as the forest plot
    table = pd.DataFrame({
        "study": shown["label"], "trial_id": shown["trial_id"], "estimate": scale * shown["estimate"],
        "ci_low": scale * shown["ci_low"], "ci_high": scale * shown["ci_high"], "weight_percent": shown["weight"],
        "interval": shown["interval"], "printed": shown["printed"],
    })
    name = f"forest_{slug(spec.id)}.csv"
    ctx.figs.folder.mkdir(parents=True, exist_ok=True)
    (ctx.figs.folder / name).write_text(frame_csv(table, float_format="%.6g"), encoding="utf-8", newline="")
    ctx.figs.extra.add(name)
    ctx.doc.html.append(f'<p class="note">Forest plot of {html.escape(spec.id)} not drawn: with k = {result.k} studies it '
                        f"would be {result.k * display.ROW_IN:.0f} inches tall. Every study's estimate, "
                        f"{spec.level * 100:g}% CI and weight are in <a href=\"figures/{name}\">{name}</a>; the "
                        "funnel plot shows every study, and the table above the pooled estimate.</p>")
    ctx.doc.md += [f"Forest plot of {md_text(spec.id)} not drawn (k = {result.k}): every study's estimate, CI and weight are "
                   f"in [figures/{name}](figures/{name}).", ""]
