"""A living PRISMA 2020 flow: one column per named version of the review (and the living revision
after the last one), drawn as a figure and given as a table.

The counts of the search (records identified, screened, reports assessed and excluded with reasons)
are counted from the version's search records when it has any (the runs added since the version
before it, as the ``screening_flow`` view places each record: :mod:`livemeta.screening.counts`),
else those the project file records for it (``screening:`` under the version in ``livemeta.yaml``),
"not recorded" otherwise; never estimated. The trials come from the database as
of each version's revision: included (by design), new since the previous version, excluded with
their reasons, awaiting classification (candidates) and reported after the search (living-update
candidates).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from .characteristics import first_sentence

if TYPE_CHECKING:  # the figure's modules load matplotlib: imported by the functions that draw
    from matplotlib.figure import Figure

NOT_RECORDED = "not recorded"
STAGES = ("Identification", "Screening", "Eligibility", "Included")


@dataclass(frozen=True)
class FlowCounts:
    """The numbers of one column."""

    name: str
    revision: int
    date: str
    living: bool
    screening: dict
    included_rct: int
    included_single: int
    previous_total: int | None
    new_rct: int
    new_single: int
    excluded: list[tuple[str, str]]  # (trial name, reason)
    candidates: int
    after_review: int
    records: object = None  # livemeta.screening.counts.FlowFromRecords, when the version has search records

    @property
    def included(self) -> int:
        return self.included_rct + self.included_single

    @property
    def new(self) -> int:
        return self.new_rct + self.new_single


def _included(trials: pd.DataFrame) -> pd.DataFrame:
    return trials[trials["inclusion"] == "included"]


def counts(col) -> FlowCounts:
    """The counts of a :class:`~livemeta.reports.gather.VersionColumn`."""
    t = col.trials
    inc = _included(t)
    before = set(_included(col.previous.trials)["trial_id"]) if col.previous is not None else set()
    new = inc[~inc["trial_id"].isin(before)]
    exc = t[t["inclusion"] == "excluded"]
    return FlowCounts(
        col.name, col.revision, col.date, col.living, dict(col.screening or {}),
        int((inc["design"] == "rct").sum()), int((inc["design"] == "single_arm").sum()),
        len(before) if col.previous is not None else None,
        int((new["design"] == "rct").sum()), int((new["design"] == "single_arm").sum()),
        [(r["name"], first_sentence(r["inclusion_reason"])) for r in exc.to_dict("records")],
        int((t["inclusion"] == "candidate").sum()), int((t["inclusion"] == "after_review").sum()),
        getattr(col, "records", None),
    )


def _count(screening: dict, key: str) -> str:
    v = screening.get(key)
    if v is None:
        return NOT_RECORDED
    if isinstance(v, dict):
        return f"{sum(v.values())} (" + ", ".join(f"{k} {n}" for k, n in v.items()) + ")"
    return str(v)


def _by(total: int, parts: dict) -> str:
    return f"{total}" + (" (" + ", ".join(f"{k} {n}" for k, n in parts.items()) + ")" if parts else "")


#: each search box: (from the records, from the project file's counts)
_SEARCH = {
    "identified": (lambda r: _by(r.identified_total, r.identified), "identified"),
    "duplicates": (lambda r: str(r.duplicates), "duplicates_removed"),
    "screened": (lambda r: str(r.screened), "screened"),
    "ta_excluded": (lambda r: str(r.ta_excluded), "excluded_at_screening"),
    "ta_pending": (lambda r: str(r.ta_pending), None),
    "sought": (lambda r: str(r.sought), "reports_sought"),
    "not_retrieved": (lambda r: str(r.not_retrieved), "reports_not_retrieved"),
    "assessed": (lambda r: str(r.assessed), "reports_assessed"),
    "ft_excluded": (lambda r: _by(sum(r.ft_excluded.values()), r.ft_excluded), "reports_excluded"),
    "ft_pending": (lambda r: str(r.ft_pending), None),
    "included": (lambda r: f"{len(r.studies)} stud{'y' if len(r.studies) == 1 else 'ies'} ({r.included} report"
                           f"{'s' if r.included != 1 else ''})", None),
    "new": (lambda r: str(len(r.new_studies)), None),
}


def search_box(f: FlowCounts, box: str) -> str:
    """A search box of a column: counted from its records, else the project file's count, else
    'not recorded'."""
    from_records, key = _SEARCH[box]
    if f.records is not None:
        return from_records(f.records)
    return _count(f.screening, key) if key else NOT_RECORDED


def _designs(rct: int, single: int) -> str:
    return f"{rct + single} ({rct} RCT{'s' if rct != 1 else ''}, {single} single-arm)"


def _source(f: FlowCounts) -> str:
    if f.records is not None:
        n = len(f.records.runs)
        return f"counted from the records of {n} search run{'s' if n != 1 else ''} ({', '.join(f.records.runs)})"
    return f.screening.get("source", NOT_RECORDED)


TABLE_ROWS = [
    ("Records identified", lambda c: search_box(c, "identified")),
    ("Duplicates removed", lambda c: search_box(c, "duplicates")),
    ("Records screened", lambda c: search_box(c, "screened")),
    ("Records excluded at screening", lambda c: search_box(c, "ta_excluded")),
    ("Records awaiting screening", lambda c: search_box(c, "ta_pending")),
    ("Reports sought for retrieval", lambda c: search_box(c, "sought")),
    ("Reports not retrieved", lambda c: search_box(c, "not_retrieved")),
    ("Reports assessed for eligibility", lambda c: search_box(c, "assessed")),
    ("Reports excluded, with reasons", lambda c: search_box(c, "ft_excluded")),
    ("Reports awaiting a full-text decision", lambda c: search_box(c, "ft_pending")),
    ("Studies (reports) included from the search", lambda c: search_box(c, "included")),
    ("New studies from the search in this update", lambda c: search_box(c, "new")),
    ("Trials in the database excluded, with reasons",
     lambda c: f"{len(c.excluded)}" + ("" if not c.excluded else ": " + "; ".join(f"{n} ({r})" for n, r in c.excluded))),
    ("Trials awaiting classification", lambda c: str(c.candidates)),
    ("Trials reported after the search (living update)", lambda c: str(c.after_review)),
    ("Trials included in the previous version", lambda c: "—" if c.previous_total is None else str(c.previous_total)),
    ("New trials included", lambda c: _designs(c.new_rct, c.new_single)),
    ("Trials included in total", lambda c: _designs(c.included_rct, c.included_single)),
    ("Source of the search counts", _source),
]


def table(flows: list[FlowCounts]) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the flow as a table: one row per box, one column per version."""
    header = ["Stage"] + [f"{f.name} (living)" if f.living else f"{f.name} (revision {f.revision})" for f in flows]
    return header, [[label] + [get(f) for f in flows] for label, get in TABLE_ROWS]


def _boxes(f: FlowCounts) -> list[str]:
    s, r = f.screening, f.records
    ident = f"Records identified: {search_box(f, 'identified')}"
    if r is not None or "duplicates_removed" in s:
        ident += f"\nDuplicates removed: {search_box(f, 'duplicates')}"
    screen = f"Records screened: {search_box(f, 'screened')}"
    if r is not None or "excluded_at_screening" in s:
        screen += f"\nExcluded at screening: {search_box(f, 'ta_excluded')}"
    if r is not None:
        screen += f"\nAwaiting screening: {r.ta_pending}"
        screen += f"\nReports sought: {r.sought}; not retrieved: {r.not_retrieved}"
    elig = f"Reports assessed for eligibility: {search_box(f, 'assessed')}"
    if r is not None or "reports_excluded" in s:
        elig += f"\nReports excluded: {search_box(f, 'ft_excluded')}"
    if r is not None:
        elig += f"\nAwaiting a full-text decision: {r.ft_pending}"
    elig += f"\nTrials excluded in the database: {len(f.excluded)}"
    elig += "".join(f"\n– {n}: {r_}" for n, r_ in f.excluded)
    inc = ""
    if r is not None:
        inc += f"From the search: {search_box(f, 'included')}, {len(r.new_studies)} new\n"
    if f.previous_total is not None:
        inc += f"Included in the previous version: {f.previous_total}\n"
    inc += f"New trials included: {_designs(f.new_rct, f.new_single)}\nTotal included: {_designs(f.included_rct, f.included_single)}"
    inc += f"\nAwaiting classification: {f.candidates}; after the search: {f.after_review}"
    return [ident, screen, elig, inc]


def flow_figure(flows: list[FlowCounts], *, title: str, footer: str = "") -> Figure:
    """The flow diagram: a column of boxes per version, stages as rows."""
    import matplotlib

    from .plots import _RC

    with matplotlib.rc_context(_RC):
        return _flow(flows, title, footer)


def _flow(flows: list[FlowCounts], title: str, footer: str) -> Figure:
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    from .plots import FS, FS_SMALL, FS_TITLE, GREY, INK, MARGIN_IN, _Measure, _new_figure

    fig = _new_figure()
    m = _Measure(fig)
    stage_w, col_w, gap, pad = 0.35, 2.9, 0.35, 0.09
    text_w = col_w - 2 * pad
    fig_w = MARGIN_IN * 2 + stage_w + len(flows) * col_w + (len(flows) - 1) * gap
    fig_w = max(fig_w, 6.0)
    wrapped = [[sum((m.wrap(line, text_w, 4, size=FS_SMALL) for line in box.split("\n")), []) for box in _boxes(f)]
               for f in flows]
    line_h = FS_SMALL * 1.3 / 72
    stage_h = [max(max(len(col[i]) for col in wrapped) * line_h + 2 * pad,  # the rotated stage name fits too
                   m.width(STAGES[i], size=FS_SMALL, weight="bold") + 0.16) for i in range(len(STAGES))]
    arrow_h = 0.3
    title_lines = m.wrap(title, fig_w - 2 * MARGIN_IN, 2, size=FS_TITLE, weight="bold")
    head_lines = [m.wrap(f"{f.name}" + (" (living)" if f.living else ""), col_w, 1, size=FS, weight="bold") for f in flows]
    footer_lines = m.wrap(footer, fig_w - 2 * MARGIN_IN, 2, size=FS_SMALL - 0.5) if footer else []
    top = 0.15 + len(title_lines) * FS_TITLE * 1.3 / 72 + 0.15
    head_h = 2 * FS * 1.3 / 72 + 0.12
    footer_h = 0.12 + len(footer_lines) * (FS_SMALL - 0.5) * 1.3 / 72
    body_h = sum(stage_h) + arrow_h * (len(STAGES) - 1)
    fig_h = top + head_h + body_h + footer_h + 0.1
    fig.set_size_inches(fig_w, fig_h)
    fx, fy = (lambda x: x / fig_w), (lambda y: y / fig_h)
    fig.text(fx(MARGIN_IN), fy(fig_h - 0.15), "\n".join(title_lines), ha="left", va="top", fontsize=FS_TITLE,
             fontweight="bold", color=INK, linespacing=1.15, parse_math=False)
    for j, f in enumerate(flows):
        x0 = MARGIN_IN + stage_w + j * (col_w + gap)
        y = fig_h - top
        fig.text(fx(x0 + col_w / 2), fy(y), head_lines[j][0], ha="center", va="top", fontsize=FS, fontweight="bold",
                 color=INK, parse_math=False)
        fig.text(fx(x0 + col_w / 2), fy(y - FS * 1.3 / 72 - 0.02), f"revision {f.revision} · {f.date}", ha="center",
                 va="top", fontsize=FS_SMALL, color=GREY, parse_math=False)
        y -= head_h
        for i, lines in enumerate(wrapped[j]):
            h = stage_h[i]
            fig.add_artist(FancyBboxPatch((fx(x0), fy(y - h)), fx(col_w), fy(h), boxstyle="round,pad=0,rounding_size=0.01",
                                          transform=fig.transFigure, facecolor="#f4f6f8" if i < 3 else "#e8eef6",
                                          edgecolor=INK, lw=0.7))
            fig.text(fx(x0 + pad), fy(y - pad), "\n".join(lines), ha="left", va="top", fontsize=FS_SMALL, color=INK,
                     linespacing=1.3, parse_math=False)
            if i < len(STAGES) - 1:
                fig.add_artist(FancyArrowPatch((fx(x0 + col_w / 2), fy(y - h)), (fx(x0 + col_w / 2), fy(y - h - arrow_h)),
                                               transform=fig.transFigure, arrowstyle="-|>", mutation_scale=9, color=INK,
                                               lw=0.8))
            y -= h + arrow_h
    y = fig_h - top - head_h
    for i, stage in enumerate(STAGES):
        h = stage_h[i]
        fig.add_artist(FancyBboxPatch((fx(MARGIN_IN), fy(y - h)), fx(stage_w - 0.08), fy(h), boxstyle="square,pad=0",
                                      transform=fig.transFigure, facecolor="#2b4c7e", edgecolor="none"))
        fig.text(fx(MARGIN_IN + (stage_w - 0.08) / 2), fy(y - h / 2), stage, rotation=90, ha="center", va="center",
                 fontsize=FS_SMALL, color="white", fontweight="bold", parse_math=False)
        y -= h + arrow_h
    if footer_lines:
        fig.text(fx(MARGIN_IN), fy(0.08), "\n".join(footer_lines), ha="left", va="bottom", fontsize=FS_SMALL - 0.5,
                 color=GREY, linespacing=1.2, parse_math=False)
    return fig
