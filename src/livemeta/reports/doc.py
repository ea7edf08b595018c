"""The report's document: HTML and Markdown written side by side, with the formatting every section
shares (numbers, dates, tables, figures). No matplotlib here."""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..pooling import back_transform
from ..safe import md_text

CSS = """
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
.small { font-size: .8rem; color: var(--muted); }
code { font-size: .85em; background: var(--band); padding: 0 .2em; border-radius: 3px; }
details { margin: .75rem 0; }
summary { cursor: pointer; font-weight: 600; }
ol.refs { font-size: .85rem; padding-left: 2.2rem; }
ol.refs li { margin: .15rem 0; }
a.cite { text-decoration: none; }
.cert { font-weight: 600; white-space: nowrap; }
.rob { display: inline-block; min-width: 1.4rem; text-align: center; border-radius: 3px; color: #fff; font-weight: 600; }
.rob-low { background: #02a100; } .rob-some_concerns, .rob-moderate { background: #c8c400; color: #1a1a1a; }
.rob-high, .rob-serious { background: #bf0000; } .rob-critical { background: #820000; }
.rob-no_information { background: #4ea1f7; } .rob-na { background: var(--band); color: var(--muted); }
footer { margin-top: 3rem; color: var(--muted); font-size: .8rem; border-top: 1px solid var(--rule);
         padding-top: .5rem; }
@media print { details { display: block; } body { max-width: none; } }
"""


# ------------------------------------------------------------------------------ formatting
def finite(x) -> bool:
    return x is not None and isinstance(x, (int, float, np.floating, np.integer)) and math.isfinite(float(x))


def num(v) -> float | None:
    """A number from a frame cell: None for missing (None, NaN, pd.NA, NaT) or not a number."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", s).strip("_") or "analysis"


def fmt_date(value: Any) -> str:
    if value is None or value != value:
        return "date unknown"
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M") + (" UTC" if value.utcoffset() == dt.timedelta(0) else "")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def fmt(x: float | None, percent: bool = False) -> str:
    if not finite(x):
        return "—"
    if percent:
        return f"{100 * x:.1f}"
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def fmt_ci(est, lo, hi, percent: bool = False) -> str:
    """'0.90 (0.82–0.99)', or '12.5% (9.0–17.1)' for proportions."""
    if not finite(est):
        return "—"
    unit = "%" if percent else ""
    if finite(lo) and fmt(lo, percent) != "—" and finite(hi):
        return f"{fmt(est, percent)}{unit} ({fmt(lo, percent)}–{fmt(hi, percent)})"
    return f"{fmt(est, percent)}{unit}"


def fmt_p(p) -> str:
    if not finite(p):
        return "—"
    return "< 0.001" if p < 0.001 else f"{p:.3f}" if p < 0.01 else f"{p:.2f}"


def nat(x, scale: str):
    return float(back_transform(x, scale=scale)) if finite(x) else None


def cell(v: Any) -> str:
    """A value as table text: '' for missing, dates as dates, lists joined."""
    if isinstance(v, Html):
        return v.md
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return f"{v:g}"
    if isinstance(v, (pd.Timestamp, dt.datetime, dt.date)):
        return fmt_date(v)
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (list, tuple, np.ndarray)):
        return ", ".join(cell(x) for x in v)
    if v is pd.NA or v is pd.NaT:
        return ""
    return str(v)


def is_num(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


@dataclass(frozen=True)
class Html:
    """A table cell or paragraph given as HTML, with its Markdown text: both already safe (built
    with :func:`html.escape` and :func:`livemeta.safe.md_text` around every value). Any other text
    handed to :class:`Doc` is a value: it is escaped for both."""

    html: str
    md: str

    def __str__(self) -> str:
        return self.md

    @classmethod
    def text(cls, value: Any) -> Html:
        """Plain text, escaped for HTML and Markdown."""
        return cls(html.escape(cell(value)), md_text(cell(value)))


def html_cell(v: Any) -> str:
    return v.html if isinstance(v, Html) else html.escape(cell(v))


def md_cell(v: Any) -> str:
    """A value as Markdown inline text: :class:`Html` as its Markdown, anything else escaped."""
    return v.md if isinstance(v, Html) else md_text(cell(v))


# ----------------------------------------------------------------------------------- tables
def html_table(df: pd.DataFrame, caption: str) -> str:
    head = "".join(f'<th class="num">{html.escape(str(c))}</th>' if len(df) and is_num(df[c].iloc[0])
                   else f"<th>{html.escape(str(c).replace('_', ' '))}</th>" for c in df.columns)
    body = []
    for rec in df.itertuples(index=False):
        tds = "".join(f'<td class="num">{html_cell(v)}</td>' if is_num(v) else f"<td>{html_cell(v)}</td>" for v in rec)
        body.append(f"<tr>{tds}</tr>")
    return (f"<table><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def md_table(header: list, rows: list[list], caption: str | None = None) -> str:
    """A Markdown table: every cell a value (escaped) or :class:`Html` (its Markdown)."""
    out = ["| " + " | ".join(md_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(md_cell(c) for c in r) + " |" for r in rows]
    if caption:
        out += ["", f"*{md_text(caption)}*"]
    return "\n".join(out)


def md_frame(df: pd.DataFrame, caption: str) -> str:
    return md_table([str(c).replace("_", " ") for c in df.columns], [list(rec) for rec in df.itertuples(index=False)],
                    caption)


# --------------------------------------------------------------------------------- document
class Doc:
    """HTML and Markdown built side by side."""

    def __init__(self):
        self.html: list[str] = []
        self.md: list[str] = []

    def extend(self, other: Doc) -> None:
        """Append what ``other`` holds."""
        self.html += other.html
        self.md += other.md

    def heading(self, level: int, text: str, anchor: str | None = None) -> None:
        a = f' id="{html.escape(anchor)}"' if anchor else ""
        self.html.append(f"<h{level}{a}>{html.escape(text)}</h{level}>")
        self.md += ["#" * level + " " + md_text(text), ""]

    def para(self, text: str | Html, cls: str | None = None) -> None:
        c = f' class="{cls}"' if cls else ""
        body = text.html if isinstance(text, Html) else html.escape(text)
        self.html.append(f"<p{c}>{body}</p>")
        self.md += [md_cell(text), ""]

    def bullets(self, items: list[str | Html]) -> None:
        if not items:
            return
        self.html.append("<ul>" + "".join(f"<li>{html_cell(i)}</li>" for i in items) + "</ul>")
        self.md += [f"- {md_cell(i)}" for i in items] + [""]

    def frame(self, df: pd.DataFrame, caption: str) -> None:
        self.html.append(html_table(df, caption))
        self.md += [md_frame(df, caption), ""]

    def table(self, header: list[str], rows: list[list], caption: str, *, num: tuple[int, ...] = (),
              row_classes: list[str] | None = None) -> None:
        """A table of cells (text or :class:`Html`); ``num`` the columns aligned right."""
        ths = "".join(f'<th class="num">{html.escape(h)}</th>' if i in num else f"<th>{html.escape(h)}</th>"
                      for i, h in enumerate(header))
        trs = []
        for j, r in enumerate(rows):
            cls = f' class="{row_classes[j]}"' if row_classes and row_classes[j] else ""
            tds = "".join(f'<td class="num">{html_cell(c)}</td>' if i in num else f"<td>{html_cell(c)}</td>"
                          for i, c in enumerate(r))
            trs.append(f"<tr{cls}>{tds}</tr>")
        self.html.append(f"<table><caption>{html.escape(caption)}</caption><thead><tr>{ths}</tr></thead>"
                         f"<tbody>{''.join(trs)}</tbody></table>")
        self.md += [md_table(header, rows, caption), ""]

    def figure(self, stem: str, alt: str, caption: str) -> None:
        self.html.append(f'<figure><img src="figures/{stem}.svg" alt="{html.escape(alt)}" loading="lazy">'
                         f"<figcaption>{html.escape(caption)} "
                         f'(<a href="figures/{stem}.png">PNG</a>, <a href="figures/{stem}.svg">SVG</a>)'
                         f"</figcaption></figure>")
        self.md += [f"![{md_text(alt)}](figures/{stem}.png)", "", f"*{md_text(caption)}*", ""]
