"""The static report: ``index.html`` and ``report.md`` with their figures (PNG and SVG).

:func:`build_report` writes, into ``out_dir``:

* ``index.html``: self-contained apart from the figure files (inline CSS, no JavaScript, nothing
  fetched from the network), SVG figures referenced relatively (``figures/…svg``);
* ``report.md``: the same content with PNG figures (``figures/…png``);
* ``figures/``: a forest plot per analysis with data, a funnel plot per analysis with k >= 10, a
  cumulative forest plot per main analysis, each as PNG (150 dpi) and SVG.

The title, every table caption and every figure footer carry the revision, its date and the
livemeta version, so a figure copied out of the report still says what it shows.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from ..analysis.present import trial_count
from ..pooling import back_transform
from ..living.cumulative import cumulative_rows
from . import plots

__all__ = ["build_report", "cumulative_rows", "summary_rows", "FUNNEL_MIN_K"]

FUNNEL_MIN_K = plots.EGGER_MIN_K  # 10: below this a funnel plot and Egger's test are not informative

_CSS = """
:root { --ink: #1a1a1a; --muted: #5f6368; --rule: #d0d4d9; --band: #f4f6f8; --accent: #2b4c7e; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 1180px; padding: 1.5rem 1.5rem 4rem; background: #fff; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.25rem; margin: 2.5rem 0 .5rem; padding-bottom: .25rem; border-bottom: 2px solid var(--rule); }
h3 { font-size: 1.05rem; margin: 1.6rem 0 .4rem; }
.stamp { color: var(--muted); font-size: .85rem; margin: .2rem 0 1rem; }
.lead { margin: .5rem 0 1rem; }
nav ol { margin: .25rem 0 0; padding-left: 1.4rem; columns: 2; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; margin: .5rem 0 .25rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--rule); vertical-align: top; }
th { background: var(--band); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.sens td:first-child { padding-left: 1.6rem; }
tr.sub td { color: var(--muted); }
tr.sub td:first-child { padding-left: 1.6rem; }
caption { caption-side: bottom; text-align: left; color: var(--muted); font-size: .78rem; padding-top: .3rem; }
figure { margin: 1rem 0 1.5rem; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--rule); background: #fff; }
figcaption { color: var(--muted); font-size: .8rem; margin-top: .25rem; }
.note { background: var(--band); border-left: 3px solid var(--accent); padding: .5rem .75rem; margin: .75rem 0; }
.notes { color: var(--muted); }
code { font-size: .85em; background: var(--band); padding: 0 .2em; border-radius: 3px; }
details { margin: .75rem 0; }
summary { cursor: pointer; font-weight: 600; }
footer { margin-top: 3rem; color: var(--muted); font-size: .8rem; border-top: 1px solid var(--rule);
         padding-top: .5rem; }
@media print { details { display: block; } body { max-width: none; } }
"""


# ------------------------------------------------------------------------------- small helpers
def _finite(x) -> bool:
    return x is not None and isinstance(x, (int, float, np.floating, np.integer)) and math.isfinite(float(x))


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", s).strip("_") or "analysis"


def _fmt_date(value: Any) -> str:
    if value is None or value != value:
        return "date unknown"
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M") + (" UTC" if value.utcoffset() == dt.timedelta(0) else "")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _revision_info(info: Any, results: list) -> dict:
    """Normalise ``revision_info`` (a dict, or a Revision dataclass) to revision/date/version/message."""
    if is_dataclass(info) and not isinstance(info, type):
        info = asdict(info)
    info = dict(info or {})
    rev = info.get("revision", info.get("revision_id"))
    if rev is None and results:
        rev = results[0].revision
    return {
        "revision": rev,
        "date": _fmt_date(info.get("date", info.get("created_at"))),
        "version": str(info.get("version") or __version__),
        "written_by": info.get("livemeta_version"),
        "message": info.get("message"),
        "author": info.get("author"),
    }


def _fmt(x: float | None, percent: bool = False) -> str:
    if not _finite(x):
        return "—"
    if percent:
        return f"{100 * x:.1f}"
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def _fmt_ci(est, lo, hi, percent: bool = False) -> str:
    """'0.90 (0.82–0.99)', or '12.5% (9.0–17.1)' for proportions."""
    if not _finite(est):
        return "—"
    unit = "%" if percent else ""
    if _finite(lo) and _fmt(lo, percent) != "—" and _finite(hi):
        return f"{_fmt(est, percent)}{unit} ({_fmt(lo, percent)}–{_fmt(hi, percent)})"
    return f"{_fmt(est, percent)}{unit}"


def _fmt_p(p) -> str:
    if not _finite(p):
        return "—"
    return "< 0.001" if p < 0.001 else f"{p:.3f}" if p < 0.01 else f"{p:.2f}"


def _nat(x, scale: str):
    return float(back_transform(x, scale=scale)) if _finite(x) else None


# ------------------------------------------------------------------------- summary of findings
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
        unverified = int((~result.studies["verified"].map(plots._is_true)).sum())
        if unverified:
            notes.append(f"includes unverified values ({unverified} of {k})")
    if k > 1 and _finite(o.i2) and o.i2 >= 50:
        notes.append(f"substantial heterogeneity (I² {o.i2:.0f}%)")
    if spec.measure != "proportion" and o.method != "FE" and _finite(o.pi_low) and _finite(o.pi_high) \
            and o.pi_low < 0 < o.pi_high and k > 1:
        notes.append("prediction interval includes 1")
    if spec.measure == "proportion":
        notes.append("single-arm data: no comparator")
    if result.subgroups is not None:
        notes.append(f"subgroup differences p = {_fmt_p(result.subgroups.q_between_p)}")
    if spec.ci_level == "alternative":
        notes.append("disputed CIs read at their alternative level")
    if not getattr(o, "converged", True):
        notes.append("estimator did not converge")
    return notes


def _published_text(spec) -> str:
    pub = spec.published
    if pub is None:
        return ""
    if pub.estimate is not None:
        txt = _fmt_ci(pub.estimate, pub.ci_low, pub.ci_high)
        return txt + (f", {pub.trials} trials" if pub.trials else "")
    return pub.text or ""


def _comparison(result) -> str:
    try:
        from ..analysis.present import comparison

        return comparison(result)
    except Exception:  # the table still renders when the comparison cannot be made
        return ""


def summary_rows(result) -> list[dict]:
    """The summary-of-findings rows of one analysis: its own, then one per subgroup.

    Strings as printed in the report (ratio scale, or percent for proportions).
    """
    spec, o = result.spec, result.overall
    percent = spec.measure == "proportion"
    lvl = f"{spec.level * 100:g}%"
    trials = f"k = {result.k}; {trial_count(result)}"
    if o is None:
        est = pi = i2 = "—"
    else:
        s = spec.scale
        est = _fmt_ci(_nat(o.estimate, s), _nat(o.ci_low, s), _nat(o.ci_high, s), percent)
        est = est if percent else f"{spec.measure} {est}"
        i2 = f"{o.i2:.0f}%" if _finite(o.i2) and result.k > 1 else "—"
        if o.method == "FE":
            pi = "= CI (fixed effect)"
        elif result.k > 1 and _finite(o.pi_low) and _finite(o.pi_high):
            pi = f"{_fmt(_nat(o.pi_low, s), percent)}–{_fmt(_nat(o.pi_high, s), percent)}"
        else:
            pi = "—"
    rows = [{
        "id": spec.id, "title": spec.title, "kind": "sens" if spec.sensitivity_of else "main",
        "trials": trials, "estimate": est, "level": lvl, "i2": i2, "pi": pi,
        "method": plots.method_label(spec.method, spec.test), "published": _published_text(spec),
        "comparison": _comparison(result), "notes": "; ".join(_notes(result)),
    }]
    if result.subgroups is not None:
        s = spec.scale
        groups = result.studies[spec.subgroup].fillna("(none)").astype(str)
        for g in result.subgroups.groups:
            p = result.subgroups.subgroups[g]
            e = _fmt_ci(_nat(p.estimate, s), _nat(p.ci_low, s), _nat(p.ci_high, s), percent)
            ntr = result.studies.loc[groups == str(g), "trial_id"].nunique()
            rows.append({
                "id": f"{spec.id}:{g}", "title": plots._pretty(g), "kind": "sub",
                "trials": f"{p.k} / {ntr}", "estimate": e if percent else f"{spec.measure} {e}", "level": lvl,
                "i2": f"{p.i2:.0f}%" if _finite(p.i2) and p.k > 1 else "—", "pi": "", "method": "",
                "published": "", "comparison": "", "notes": "k = 1" if p.k == 1 else "",
            })
    return rows


# ------------------------------------------------------------------------------ tables (generic)
def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return f"{v:g}"
    if isinstance(v, (pd.Timestamp, dt.datetime, dt.date)):
        return _fmt_date(v)
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (list, tuple, np.ndarray)):
        return ", ".join(_cell(x) for x in v)
    if v is pd.NA or v is pd.NaT:
        return ""
    return str(v)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


_GAP_COLUMNS = ["name", "trial", "trial_id", "design", "inclusion", "status", "missing", "reason", "inclusion_reason"]


def _gaps_view(gaps: pd.DataFrame) -> pd.DataFrame:
    """The trials whose data are missing, with what is missing and why (from ``evidence_gaps``)."""
    df = gaps.copy()
    if "missing" in df.columns:
        df = df[df["missing"].fillna("").astype(str).str.strip() != ""]
    keep = [c for c in _GAP_COLUMNS if c in df.columns]
    if "name" in keep and "trial" in keep:
        keep.remove("trial")
    if keep and ("missing" in keep or "reason" in keep):
        df = df[keep]
    return df.reset_index(drop=True)


def _html_table(df: pd.DataFrame, caption: str) -> str:
    head = "".join(f'<th class="num">{html.escape(str(c))}</th>' if len(df) and _is_num(df[c].iloc[0])
                   else f"<th>{html.escape(str(c).replace('_', ' '))}</th>" for c in df.columns)
    body = []
    for rec in df.itertuples(index=False):
        tds = "".join(f'<td class="num">{html.escape(_cell(v))}</td>' if _is_num(v)
                      else f"<td>{html.escape(_cell(v))}</td>" for v in rec)
        body.append(f"<tr>{tds}</tr>")
    return (f"<table><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def _md_escape(s: str) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[str]], caption: str | None = None) -> str:
    out = ["| " + " | ".join(_md_escape(h) for h in header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_md_escape(c) for c in r) + " |" for r in rows]
    if caption:
        out += ["", f"*{caption}*"]
    return "\n".join(out)


def _md_frame(df: pd.DataFrame, caption: str) -> str:
    return _md_table([str(c).replace("_", " ") for c in df.columns],
                     [[_cell(v) for v in rec] for rec in df.itertuples(index=False)], caption)


# ------------------------------------------------------------------------------ the report
class _Doc:
    """HTML and Markdown built side by side."""

    def __init__(self):
        self.html: list[str] = []
        self.md: list[str] = []

    def heading(self, level: int, text: str, anchor: str | None = None) -> None:
        a = f' id="{html.escape(anchor)}"' if anchor else ""
        self.html.append(f"<h{level}{a}>{html.escape(text)}</h{level}>")
        self.md += ["#" * level + " " + text, ""]

    def para(self, text: str, cls: str | None = None) -> None:
        c = f' class="{cls}"' if cls else ""
        self.html.append(f"<p{c}>{html.escape(text)}</p>")
        self.md += [text, ""]

    def figure(self, stem: str, alt: str, caption: str) -> None:
        self.html.append(f'<figure><img src="figures/{stem}.svg" alt="{html.escape(alt)}" loading="lazy">'
                         f"<figcaption>{html.escape(caption)} "
                         f'(<a href="figures/{stem}.png">PNG</a>, <a href="figures/{stem}.svg">SVG</a>)'
                         f"</figcaption></figure>")
        self.md += [f"![{alt}](figures/{stem}.png)", "", f"*{caption}*", ""]


_SOF_HEADER = ["Analysis", "k / trials", "Estimate ({lvl} CI)", "I²", "{lvl} PI", "Method", "Published (review)",
               "vs published", "Certainty notes"]


def _sof(doc: _Doc, rows: list[dict], caption: str, *, link: bool = True) -> None:
    lvl = rows[0]["level"] if rows else "95%"
    header = [h.format(lvl=lvl) for h in _SOF_HEADER]
    ths = "".join(f'<th class="num">{html.escape(h)}</th>' if h in ("I²",) else f"<th>{html.escape(h)}</th>"
                  for h in header)
    trs, md_rows = [], []
    for r in rows:
        cls = {"sens": ' class="sens"', "sub": ' class="sub"'}.get(r["kind"], "")
        name = html.escape(r["title"])
        if r["kind"] != "sub":
            ident = html.escape(r["id"])
            name = (f'<a href="#a-{_slug(r["id"])}">{name}</a>' if link else name) + f"<br><code>{ident}</code>"
        prefix = "↳ " if r["kind"] in ("sens", "sub") else ""
        cells = [r["trials"], r["estimate"], r["i2"], r["pi"], r["method"], r["published"], r["comparison"],
                 r["notes"]]
        tds = "".join(f'<td class="num">{html.escape(c)}</td>' if i in (1, 2) else f"<td>{html.escape(c)}</td>"
                      for i, c in enumerate(cells))
        trs.append(f"<tr{cls}><td>{prefix}{name}</td>{tds}</tr>")
        label = r["title"] if r["kind"] == "sub" else f"{r['title']} (`{r['id']}`)"
        md_rows.append([("↳ " if prefix else "") + label, *cells])
    doc.html.append(f"<table><caption>{html.escape(caption)}</caption><thead><tr>{ths}</tr></thead>"
                    f"<tbody>{''.join(trs)}</tbody></table>")
    doc.md += [_md_table(header, md_rows, caption), ""]


def _group(results: list) -> list[tuple[Any, list]]:
    """Main analyses in order, each with its sensitivity analyses; orphans stand alone."""
    ids = {r.spec.id for r in results}
    children: dict[str, list] = {}
    for r in results:
        if r.spec.sensitivity_of and r.spec.sensitivity_of in ids:
            children.setdefault(r.spec.sensitivity_of, []).append(r)
    out = []
    for r in results:
        if r.spec.sensitivity_of and r.spec.sensitivity_of in ids:
            continue
        out.append((r, children.get(r.spec.id, [])))
    return out


def build_report(
    results: list,
    *,
    revision_info: Mapping | Any,
    out_dir: Path | str,
    gaps: pd.DataFrame | None = None,
    counts: pd.DataFrame | None = None,
    cumulative: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write the report into ``out_dir``; returns the path of ``index.html``.

    Parameters
    ----------
    results
        :class:`~livemeta.analysis.run.AnalysisResult` objects, main analyses with their
        sensitivity analyses (``spec.sensitivity_of``) in any order.
    revision_info
        ``{"revision": 3, "date": datetime, "version": "0.1.0", "message": ...}`` (a
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
    """
    out_dir = Path(out_dir)
    fig_dir = out_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    step = progress or (lambda _name: None)
    info = _revision_info(revision_info, results)
    generated = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    stamp = f"revision {info['revision']} ({info['date']}) · livemeta {info['version']}"
    table_caption = f"Data: {stamp}."

    def footer(spec_id: str) -> str:
        return (f"livemeta {info['version']} · revision {info['revision']} of {info['date']} · analysis {spec_id}"
                f" · made {generated}")

    groups = _group(results)
    doc = _Doc()
    title = f"PD-(L)1 rechallenge in advanced NSCLC: living meta-analysis, revision {info['revision']}"
    doc.heading(1, title)
    doc.para(f"Revision {info['revision']} of {info['date']} · livemeta {info['version']} · report made {generated}",
             "stamp")
    if info.get("message"):
        doc.para(f"Revision note: {info['message']}" + (f" ({info['author']})" if info.get("author") else ""), "lead")

    # contents
    sections = [("sof", "Summary of findings")]
    if counts is not None:
        sections.append(("counts", "Included trials"))
    sections += [(f"a-{_slug(r.spec.id)}", r.spec.title) for r, _ in groups]
    if gaps is not None:
        sections.append(("gaps", "Evidence gaps"))
    sections.append(("methods", "Methods"))
    doc.html.append("<nav><strong>Contents</strong><ol>" + "".join(
        f'<li><a href="#{a}">{html.escape(t)}</a></li>' for a, t in sections) + "</ol></nav>")
    doc.md += ["**Contents:** " + " · ".join(t for _, t in sections), ""]

    # summary of findings
    step("summary of findings")
    doc.heading(2, "Summary of findings", "sof")
    doc.para("Pooled estimates on the ratio scale (proportions in percent) with the review's published figure "
             "beside each. Sensitivity analyses (↳) follow their main analysis; subgroups are indented.")
    sof_rows = []
    for main, sens in groups:
        sof_rows += summary_rows(main)
        for s in sens:
            sof_rows += summary_rows(s)[:1]
    _sof(doc, sof_rows, table_caption)

    # counts
    if counts is not None:
        step("included trials")
        doc.heading(2, "Included trials", "counts")
        if len(counts):
            doc.para("Trials by design, inclusion status and treatment class of the PD-(L)1 partner "
                     "(a trial with arms of two classes counts in both).")
            doc.html.append(_html_table(counts, table_caption))
            doc.md += [_md_frame(counts, table_caption), ""]
            if "trials" in counts.columns and "design" in counts.columns:
                by = counts.groupby("design", sort=False)["trials"].sum()
                doc.para("Totals by design (arm-class rows summed): " +
                         ", ".join(f"{d}: {int(n)}" for d, n in by.items()) + ".")
        else:
            doc.para("No trials in the database at this revision.")

    # analyses
    for main, sens in groups:
        _analysis_section(doc, main, sens, fig_dir, footer, cumulative, step, table_caption)

    # gaps
    if gaps is not None:
        step("evidence gaps")
        doc.heading(2, "Evidence gaps", "gaps")
        view = _gaps_view(gaps)
        if len(view):
            doc.para(f"{len(view)} trials known to exist do not contribute to every analysis: what is missing "
                     "and why. These gaps are data too: they say where the estimates above may be incomplete.")
            doc.html.append(_html_table(view, table_caption))
            doc.md += [_md_frame(view, table_caption), ""]
        else:
            doc.para("No gaps: every known trial contributes the data its design allows.")

    # methods
    doc.heading(2, "Methods", "methods")
    for text in (
        "Pooling: inverse-variance weights on the log scale (hazard, odds and risk ratios) or the logit scale "
        "(single-arm response proportions, back-transformed to percent). The estimator and test of each analysis "
        "are those of queries/analyses.yaml (metafor rma equivalents); Knapp-Hartung (HKSJ) tests are shown as t.",
        "Forest plots: squares have areas proportional to the study weight; study intervals are the published "
        "ones where the analysis reads them at its level, otherwise computed from the pooled yi and vi. The "
        "prediction interval is drawn for random-effects models (under a fixed-effect model it equals the CI).",
        f"Funnel plots and Egger's test are shown only for analyses with k ≥ {FUNNEL_MIN_K}: below that the test "
        "has too little power to be informative. The regression test is metafor's regtest default (the SE as "
        "moderator in the analysis's model), with the classical Egger (1997) regression beside it.",
        "2x2 tables with a zero cell get 1/2 added to every cell (escalc add=1/2, to='only0').",
        "Cumulative plots add trials by first publication date (ties by trial id) with the analysis's own method.",
    ):
        doc.para(text)
    doc.html.append(f"<footer>{html.escape(stamp)} · report made {html.escape(generated)}</footer>")
    doc.md += ["---", f"*{stamp} · report made {generated}*", ""]

    step("write index.html")
    page = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(doc.html) + "\n</body>\n</html>\n")
    index = out_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    step("write report.md")
    (out_dir / "report.md").write_text("\n".join(doc.md), encoding="utf-8")
    return index


def _analysis_section(doc: _Doc, main, sens: list, fig_dir: Path, footer: Callable[[str], str],
                      cumulative: Mapping | None, step: Callable[[str], None], table_caption: str) -> None:
    spec = main.spec
    doc.heading(2, spec.title, f"a-{_slug(spec.id)}")
    filters = ", ".join(f"{k} = {v}" for k, v in spec.filters.items())
    doc.para(f"Analysis {spec.id}: {plots.MEASURE_NAMES.get(spec.measure, (spec.measure,))[0].lower()}, "
             f"{plots.method_label(spec.method, spec.test)}, {spec.level * 100:g}% CI; view {spec.view}"
             + (f" ({filters})" if filters else "") + (f"; subgroups by {spec.subgroup}" if spec.subgroup else "")
             + ".", "notes")
    _sof(doc, summary_rows(main), table_caption, link=False)
    if spec.published is not None and spec.published.text:
        doc.para(f"The review: {spec.published.text}.", "notes")
    _forest(doc, main, fig_dir, footer, step)

    # funnel
    if main.k >= FUNNEL_MIN_K and main.overall is not None:
        step(f"funnel {spec.id}")
        stem = f"funnel_{_slug(spec.id)}"
        plots.save(plots.funnel_plot(main, footer=footer(spec.id)), fig_dir / stem)
        doc.figure(stem, f"Funnel plot: {spec.title}",
                   f"Funnel plot with Egger's regression tests, analysis {spec.id} (k = {main.k}).")
    elif main.k > 0:
        doc.para(f"No funnel plot: k = {main.k} < {FUNNEL_MIN_K}. With fewer than {FUNNEL_MIN_K} studies a funnel "
                 "plot cannot distinguish small-study effects from chance, and Egger's test is not computed.", "note")

    # cumulative
    rows = None
    if cumulative is not None:
        rows = cumulative.get(spec.id)
    elif main.subgroups is None and main.k >= 2:
        rows = cumulative_rows(main)
    if rows is not None and len(rows):
        step(f"cumulative {spec.id}")
        stem = f"cumulative_{_slug(spec.id)}"
        fig = plots.cumulative_plot(rows, title=spec.title, measure=spec.measure, footer=footer(spec.id),
                                    level=spec.level)
        plots.save(fig, fig_dir / stem)
        doc.figure(stem, f"Cumulative forest plot: {spec.title}",
                   f"Cumulative meta-analysis by first publication date, analysis {spec.id}.")

    _metaregression(doc, main, fig_dir, footer, step, table_caption)
    _influence(doc, main, fig_dir, footer, step)
    _monitoring(doc, main, fig_dir, footer, step, table_caption)

    # sensitivity analyses, beside their main analysis
    if sens:
        doc.heading(3, f"Sensitivity analyses of {spec.id}")
        doc.para("Each varies one judgement of the main analysis; compare with the main row.")
        rows_ = summary_rows(main)[:1] + [summary_rows(s)[0] for s in sens]
        rows_[0] = {**rows_[0], "title": f"Main: {rows_[0]['title']}"}
        _sof(doc, rows_, table_caption, link=False)
        for s in sens:
            doc.html.append(f"<details><summary>Forest plot: {html.escape(s.spec.title)} "
                            f"(<code>{html.escape(s.spec.id)}</code>)</summary>")
            _forest(doc, s, fig_dir, footer, step, anchor=f"a-{_slug(s.spec.id)}")
            doc.html.append("</details>")


def _metaregression(doc: _Doc, result, fig_dir: Path, footer: Callable[[str], str],
                    step: Callable[[str], None], table_caption: str) -> None:
    """The meta-regression of an analysis with moderators: coefficients, test, bubble plot."""
    from ..analysis.present import metareg_summary

    spec = result.spec
    if not spec.moderators:
        return
    doc.heading(3, f"Meta-regression on {', '.join(spec.moderators)}")
    m = metareg_summary(result)
    if result.metareg is None:
        doc.para(f"No meta-regression at this revision: {m['note']}.", "note")
        return
    ratio = spec.scale == "log"
    header = ["coefficient", f"{spec.measure} ratio per unit [CI]" if ratio else "estimate [CI]", "p"]
    rows = []
    for c in m["coefficients"]:
        est = (c["ratio"], c["ratio_ci_low"], c["ratio_ci_high"]) if ratio else (c["estimate"], c["ci_low"], c["ci_high"])
        rows.append([c["name"], _fmt_ci(*est), _fmt_p(c["p"])])
    t = m["test_of_moderators"]
    stat = f"F({t['df']}, {t['df2']}) = {t['statistic']:.2f}" if t["distribution"] == "F" else f"QM({t['df']}) = {t['statistic']:.2f}"
    r2 = f"; R² = {m['r2']:.0f}%" if m["r2"] is not None else ""
    doc.para(f"rma(yi, vi, mods = ~ {' + '.join(spec.moderators)}), {plots.method_label(spec.method, spec.test)}; "
             f"test of moderators {stat}, {_fmt_p(t['p'])}{r2}; k = {m['k']}.", "notes")
    doc.html.append(_html_table(pd.DataFrame(rows, columns=header), table_caption))
    doc.md += [_md_table(header, rows, table_caption), ""]
    if m["note"]:
        doc.para(m["note"], "note")
    step(f"bubble {spec.id}")
    stem = f"bubble_{_slug(spec.id)}"
    plots.save(plots.bubble_plot(result, footer=footer(spec.id)), fig_dir / stem)
    doc.figure(stem, f"Bubble plot: {spec.title}", f"Meta-regression, analysis {spec.id} (k = {m['k']}).")


def _influence(doc: _Doc, result, fig_dir: Path, footer: Callable[[str], str],
               step: Callable[[str], None]) -> None:
    """metafor's influence() of the pooled model as a Baujat plot (k >= 3, no subgroups)."""
    from ..pooling.influence import influence

    spec = result.spec
    if result.k < 3 or result.overall is None or result.subgroups is not None:
        return
    try:
        infl = influence(result.studies["yi"].to_numpy(float), result.studies["vi"].to_numpy(float),
                         method=spec.method, test=spec.test, level=spec.level)
    except ValueError:
        return
    step(f"baujat {spec.id}")
    stem = f"baujat_{_slug(spec.id)}"
    plots.save(plots.baujat_plot(result, infl, footer=footer(spec.id)), fig_dir / stem)
    flagged = [str(lab) for lab, f in zip(result.studies["label"], infl.is_infl) if f]
    doc.html.append(f"<details><summary>Influence of each trial (Baujat plot){': ' + html.escape(', '.join(flagged)) + ' flagged' if flagged else ''}</summary>")
    doc.figure(stem, f"Baujat plot: {spec.title}",
               f"Contribution of each trial to heterogeneity against its influence on the pooled estimate, analysis "
               f"{spec.id}; flagged as influential by metafor's influence() rules: {', '.join(flagged) or 'none'}.")
    doc.html.append("</details>")


def _monitoring(doc: _Doc, result, fig_dir: Path, footer: Callable[[str], str],
                step: Callable[[str], None], table_caption: str) -> None:
    """Sequential monitoring (secondary) of an analysis that names a target in analyses.yaml."""
    from ..living.monitoring import monitoring_table

    spec = result.spec
    if not spec.monitoring or result.k == 0:
        return
    doc.heading(3, "Sequential monitoring (secondary analysis)")
    mon = result.monitoring
    if mon is None:
        doc.para(f"No sequential monitoring: {result.monitoring_note}", "note")
        return
    doc.para(f"Trial sequential analysis by first publication: target {spec.measure} {math.exp(mon.target):.2f} (an assumed "
             f"clinically relevant effect), alpha {mon.alpha:g} {'two' if mon.sided == 2 else 'one'}-sided, power "
             f"{mon.power:g}; required information {mon.required_information:.1f} ({mon.information_kind}), adjusted "
             f"by {mon.heterogeneity} = {mon.adjustment:.2f} to {mon.required_information_adjusted:.1f}. "
             f"{mon.conclusion[0].upper() + mon.conclusion[1:]}. A secondary analysis: it guards the repeated "
             "looks of a living review; the estimate is the forest plot's.", "notes")
    table = monitoring_table(result, mon)
    shown = pd.DataFrame({
        "look": table["look"], "trials added": table["trials_added"], "k": table["k"],
        "information": table["information"].map(lambda v: f"{v:.1f}"),
        "fraction": table["fraction"].map(lambda v: f"{v:.2f}"),
        spec.measure: table["ratio"].map(lambda v: f"{v:.2f}"), "z": table["z"].map(lambda v: f"{v:.2f}"),
        "boundary": table["efficacy_bound"].map(lambda v: f"{v:.2f}"), "crossed": table["crossed"]})
    doc.html.append(_html_table(shown, table_caption))
    doc.md += [_md_frame(shown, table_caption), ""]
    step(f"monitoring {spec.id}")
    stem = f"monitoring_{_slug(spec.id)}"
    plots.save(plots.monitoring_plot(mon, title=spec.title, measure=spec.measure, footer=footer(spec.id)),
               fig_dir / stem)
    doc.figure(stem, f"Trial sequential analysis: {spec.title}",
               f"Sequential monitoring (secondary), analysis {spec.id}: cumulative z, boundaries, required information.")


def _forest(doc: _Doc, result, fig_dir: Path, footer: Callable[[str], str], step: Callable[[str], None],
            anchor: str | None = None) -> None:
    spec = result.spec
    if result.k == 0 or result.overall is None:
        doc.para(f"No forest plot for {spec.id}: no study contributes data to it at this revision.", "note")
        return
    step(f"forest {spec.id}")
    stem = f"forest_{_slug(spec.id)}"
    plots.save(plots.forest_plot(result, footer=footer(spec.id)), fig_dir / stem)
    if anchor:
        doc.html.append(f'<span id="{html.escape(anchor)}"></span>')
    doc.figure(stem, f"Forest plot: {spec.title}", f"Forest plot, analysis {spec.id} (k = {result.k}).")
