"""Figures of the report: forest, funnel and cumulative forest plots.

Pure functions: data in, :class:`matplotlib.figure.Figure` out. Figures are made with the
object-oriented API, each on its own Agg canvas (no pyplot, no global backend switch, no global
state), so they can be built in a loop without leaking and in processes without a display.

* :func:`forest_plot` draws a RevMan/metafor-style forest plot of an
  :class:`~livemeta.analysis.run.AnalysisResult` (with subgroups when it has them);
* :func:`funnel_plot` draws the funnel plot with Egger's tests (k >= 10);
* :func:`cumulative_plot` draws a cumulative forest plot from rows of estimates;
* :func:`bubble_plot` draws a meta-regression on one moderator (bubble area = weight);
* :func:`baujat_plot` draws each study's contribution to heterogeneity against its influence;
* :func:`monitoring_plot` draws a trial sequential analysis (cumulative z, boundaries,
  required information size);
* :func:`save` writes a figure as PNG (150 dpi) and SVG.

The layout is computed in inches from measured text widths: text columns are as wide as their
longest cell (up to a cap, beyond which cells wrap onto two lines and then end with an ellipsis),
the figure grows with the number of rows, and nothing is placed where it could overlap.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib import transforms as mtransforms
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.markers import TICKDOWN
from matplotlib.patches import Polygon
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

from ..words import column_word
from .canvas import canvas_for
from .display import (  # noqa: F401 - EGGER_MIN_K, MEASURE_NAMES, method_label, display_scale: this module's API too
    _CONTROL_WORDS, EGGER_MIN_K, MEASURE_NAMES, ROW_IN, _finite, _fmt_p, _fmt_tau2, _is_true, _num,
    _pretty, _Scale, display_scale, exact_interval, method_label, z_sides,
)

__all__ = ["forest_plot", "funnel_plot", "cumulative_plot", "bubble_plot", "baujat_plot", "monitoring_plot",
           "save", "MEASURE_NAMES"]

# ----------------------------------------------------------------------------------------- style
_RC = {
    # DejaVu Sans draws and measures every figure (matplotlib ships it); an SVG names it first and
    # then narrower fonts, so that a viewer without it keeps the columns apart
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Bitstream Vera Sans", "Arial", "Liberation Sans", "Helvetica"],
    "font.size": 8.5,
    "svg.hashsalt": "livemeta",  # stable ids in SVG output
    "svg.fonttype": "none",  # text stays text: searchable, selectable, read aloud, a sixth of the size
    "text.hinting": "none",  # unhinted glyphs: a third faster to rasterise, no visible loss at 150 dpi
    "axes.linewidth": 0.8,
    "xtick.major.width": 0.8,
    "xtick.labelsize": 8,
}
FS = 8.5  # cell text
FS_SMALL = 7.5  # notes, legend
FS_TITLE = 11.0
LAYOUT_DPI = 100
PNG_DPI = 150
LINE_IN = FS * 1.2 / 72  # height of one text line
GAP_IN = 0.16  # between text columns
MARGIN_IN = 0.25
PANEL_IN = 3.4  # plot panel width
INK = "#1a1a1a"
GREY = "#666666"
STUDY_COLOR = "#2b4c7e"
POOLED_COLOR = "#1a1a1a"
SUBTOTAL_COLOR = "#555555"

# ---------------------------------------------------------------------------- text measurement
#: text widths in inches by (text, size, weight, style, dpi): the same in every figure, so shared
_WIDTHS: dict[tuple, float] = {}


class _Measure:
    """Text widths in inches, measured with the figure's own renderer (cached across figures)."""

    def __init__(self, fig: Figure):
        self.renderer = fig.canvas.get_renderer()
        self.dpi = fig.dpi
        self._cache = _WIDTHS
        self._props: dict[tuple, FontProperties] = {}

    def width(self, s: str, size: float = FS, weight: str = "normal", style: str = "normal") -> float:
        key = (s, size, weight, style, self.dpi)
        if key not in self._cache:
            pkey = (size, weight, style)
            prop = self._props.get(pkey)
            if prop is None:
                prop = self._props[pkey] = FontProperties(family=_RC["font.sans-serif"][0], size=size,
                                                          weight=weight, style=style)
            w = max((self.renderer.get_text_width_height_descent(line, prop, ismath=False)[0]
                     for line in s.split("\n")), default=0.0)
            self._cache[key] = w / self.dpi
        return self._cache[key]

    def line_height(self, size: float = FS) -> float:
        """A line's height in points as matplotlib boxes a one-line text (ascent of 'l' to descent
        of 'p')."""
        key = ("\0lp", size, self.dpi)
        if key not in self._cache:
            prop = FontProperties(family=_RC["font.sans-serif"][0], size=size)
            self._cache[key] = self.renderer.get_text_width_height_descent("lp", prop, ismath=False)[1] / self.dpi * 72
        return self._cache[key]

    def ellipsize(self, s: str, width: float, **kw) -> str:
        """``s`` cut with a trailing ellipsis to fit ``width`` inches."""
        if self.width(s, **kw) <= width:
            return s
        lo, hi = 0, len(s)
        while lo < hi:  # longest prefix that fits with the ellipsis
            mid = (lo + hi + 1) // 2
            if self.width(s[:mid].rstrip() + "…", **kw) <= width:
                lo = mid
            else:
                hi = mid - 1
        return s[:lo].rstrip() + "…"

    def wrap(self, s: str, width: float, max_lines: int = 2, **kw) -> list[str]:
        """Word-wrap ``s`` into at most ``max_lines`` lines of ``width`` inches; ellipsis on overflow.

        A label like ``'Trial name (NCT…): arm description'`` that does not fit keeps the part after
        the colon (what tells two arms of one trial apart) and shortens the trial name instead.
        """
        s = " ".join(str(s).split())
        if self.width(s, **kw) <= width:  # fits: what the greedy wrap gives, one measurement instead of a word each
            return [s]
        lines = self._greedy(s, width, **kw)
        if len(lines) <= max_lines:
            return lines
        if ": " in s:
            head, tail = s.split(": ", 1)
            lo, hi, best = 0, len(head), None
            while lo <= hi:
                mid = (lo + hi) // 2
                cand = self._greedy(head[:mid].rstrip() + "…: " + tail, width, **kw)
                if len(cand) <= max_lines:
                    best, lo = cand, mid + 1
                else:
                    hi = mid - 1
            if best is not None:
                return best
        rest = " ".join(lines[max_lines - 1:])
        return lines[: max_lines - 1] + [self.ellipsize(rest + " …", width, **kw)
                                           if not rest.endswith("…") else self.ellipsize(rest, width, **kw)]

    @staticmethod
    def _words(s: str) -> list[str]:
        """The words of ``s``, an equation ('p = 0.05', 'Q = 3.1,') kept together as one."""
        out: list[str] = []
        glue = False
        for w in s.split(" "):
            if out and (glue or w in ("=", "<", ">", "≥", "≤")):
                out[-1] += " " + w
                glue = w in ("=", "<", ">", "≥", "≤")
            else:
                out.append(w)
                glue = False
        return out

    def _greedy(self, s: str, width: float, **kw) -> list[str]:
        lines: list[str] = []
        cur = ""
        for word in self._words(s):
            cand = f"{cur} {word}" if cur else word
            if self.width(cand, **kw) <= width:
                cur = cand
                continue
            if cur:
                lines.append(cur)
            while self.width(word, **kw) > width and len(word) > 1:  # hard-break a long word
                cut = len(word) - 1
                while cut > 1 and self.width(word[:cut], **kw) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            cur = word
        if cur or not lines:
            lines.append(cur)
        return lines


# --------------------------------------------------------------------------------- the engine
@dataclass
class _Col:
    key: str
    header: str
    align: str = "left"  # left | right | center
    cap: float | None = None  # max width in inches (cells wrap beyond)
    max_lines: int = 1
    size: float = FS
    # computed
    x0: float = 0.0
    width: float = 0.0


@dataclass
class _Row:
    kind: str  # header | group | study | pooled | subtotal | pi | note | gap | point
    cells: dict = field(default_factory=dict)
    note: str | None = None  # a text line spanning the left columns
    bold: bool = False
    italic: bool = False
    est: float | None = None  # on the display scale (ratio, or proportion in %)
    lo: float | None = None
    hi: float | None = None
    size: float | None = None  # relative marker area 0..1
    marker: str | None = None  # square | diamond | pi | circle
    color: str = STUDY_COLOR
    min_units: float = 1.0
    # computed
    wrapped: dict = field(default_factory=dict)
    y: float = 0.0
    h: float = 1.0


@dataclass
class _Axis:
    log: bool
    lim: tuple[float, float]
    ticks: list[float]
    label: str
    null: float | None = None
    pooled: float | None = None
    left_label: str | None = None
    right_label: str | None = None
    fmt: Callable[[float], str] = lambda t: f"{t:g}"


def _new_figure(w: float = 10.0, h: float = 5.0) -> Figure:
    fig = Figure(figsize=(w, h), dpi=LAYOUT_DPI)
    canvas_for(fig)  # every figure gets its own Agg canvas
    return fig


def _units(n_lines: int) -> float:
    return max(1.0, (n_lines * LINE_IN + 0.1) / ROW_IN)


def _log_limits(values: Iterable[float]) -> tuple[tuple[float, float], list[float]]:
    """Symmetric log limits around 1 (as RevMan) wide enough for the values, and their ticks."""
    vals = [v for v in values if _finite(v) and v > 0]
    need = max((abs(math.log(v)) for v in vals), default=math.log(2))
    for hi, ticks in (
        (2.0, [0.5, 0.75, 1, 1.5, 2]),
        (5.0, [0.2, 0.5, 1, 2, 5]),
        (10.0, [0.1, 0.2, 0.5, 1, 2, 5, 10]),
        (20.0, [0.05, 0.2, 1, 5, 20]),
        (100.0, [0.01, 0.1, 1, 10, 100]),
    ):
        if need <= math.log(hi) * 1.0001:
            return (1 / hi, hi), ticks
    return (0.01, 100.0), [0.01, 0.1, 1, 10, 100]  # wider intervals are drawn as arrows


def _pct_limits(values: Iterable[float]) -> tuple[tuple[float, float], list[float]]:
    top = max((v for v in values if _finite(v)), default=50.0)
    top = min(100.0, max(10.0, math.ceil(top / 10.0) * 10.0))
    step = 5.0 if top <= 20 else 10.0 if top <= 60 else 20.0
    return (0.0, top), [float(t) for t in np.arange(0, top + step / 2, step)]


@dataclass
class _Frame:
    """The geometry of a table-with-panel figure, in inches (computed by :func:`_layout`)."""

    fig_w: float
    fig_h: float
    panel_x0: float
    panel_w: float
    rows_h: float
    total: float  # height of all rows, in row units
    title_lines: list[str]
    sub_lines: list[str]
    footer_lines: list[str]
    footer_h: float
    legend_h: float
    legend_ncol: int
    axis_h: float

    def fx(self, inches: float) -> float:
        return inches / self.fig_w

    def fy(self, inches: float) -> float:
        return inches / self.fig_h


def _is_bold(r: _Row) -> bool:
    return r.bold or r.kind in ("header", "group", "pooled", "subtotal")


def _column_widths(m: _Measure, cols: list[_Col], rows: list[_Row]) -> None:
    """Each column as wide as its widest cell (headers included), capped at ``col.cap``."""
    for col in cols:
        widths = []
        for r in rows:
            text = r.cells.get(col.key)
            if text:
                for line in str(text).split("\n"):
                    widths.append(m.width(line, size=col.size, weight="bold" if _is_bold(r) else "normal"))
        col.width = max(widths, default=0.3)
        if col.cap is not None:
            col.width = min(col.width, col.cap)


def _place_columns(left: list[_Col], right: list[_Col]) -> tuple[float, float, float, float]:
    """x of every column, the plot panel between left and right columns; returns (left_end,
    panel_x0, panel_w, fig_w). A narrow table gets a wider panel (the figure is at least 8 in)."""
    x = MARGIN_IN
    for col in left:
        col.x0, x = x, x + col.width + GAP_IN
    left_end = x - GAP_IN
    panel_x0 = x + 0.1
    panel_w = PANEL_IN
    x = panel_x0 + panel_w + 0.25
    for col in right:
        col.x0, x = x, x + col.width + GAP_IN
    needed = x - GAP_IN + MARGIN_IN
    fig_w = max(needed, 8.0)
    if fig_w > needed:
        spare = fig_w - needed
        panel_w += spare
        for col in right:
            col.x0 += spare
    return left_end, panel_x0, panel_w, fig_w


def _wrap_rows(m: _Measure, rows: list[_Row], cols: list[_Col], note_w: float, panel_header: str) -> float:
    """Wrap every cell to its column (notes to ``note_w``), set each row's height and centre;
    returns the total height in row units."""
    for r in rows:
        n = 1
        for col in cols:
            text = r.cells.get(col.key)
            if not text:
                continue
            weight = "bold" if _is_bold(r) else "normal"
            if r.kind == "header":
                lines = str(text).split("\n")
            else:
                lines = m.wrap(str(text), col.width, col.max_lines, size=col.size, weight=weight)
            r.wrapped[col.key] = lines
            n = max(n, len(lines))
        if r.note:
            lines = m.wrap(r.note, note_w, 4, size=FS_SMALL, style="italic" if r.italic else "normal")
            r.wrapped["_note"] = lines
            n = max(n, len(lines))
        if r.kind == "header":
            n = max(n, len(panel_header.split("\n")))
        if r.kind == "gap":
            r.h = r.min_units
        elif r.kind == "note":
            r.h = (n * FS_SMALL * 1.25 / 72 + 0.07) / ROW_IN
        else:
            r.h = max(r.min_units, _units(n))
    y = 0.0
    for r in rows:
        r.y = y + r.h / 2
        y += r.h
    return y


#: legend geometry, in ems of the legend's font (FS_SMALL points): a key's length, the gap from key to
#: label and between columns, the distance between rows' centres
_KEY_EM, _KEY_PAD_EM, _COLUMN_GAP_EM, _LEGEND_ROW_EM = 2.2, 0.6, 1.6, 1.66


def _legend_columns(m: _Measure, legend: list[tuple[Any, str]], width: float) -> tuple[int, float]:
    """As many legend columns as fit ``width`` (at most 3), and the legend's height."""
    if not legend:
        return 1, 0.0
    item_w = [m.width(lbl, size=FS_SMALL) + (_KEY_EM + _KEY_PAD_EM) * FS_SMALL / 72 for _, lbl in legend]
    ncol = min(3, len(legend))
    while ncol > 1 and _legend_width(item_w, ncol) > width:
        ncol -= 1
    return ncol, 0.19 * math.ceil(len(legend) / ncol) + 0.12


def _layout(m: _Measure, *, title: str, subtitle: str, footer: str, axis: _Axis, legend: list,
            fig_w: float, panel_x0: float, panel_w: float, total: float) -> _Frame:
    """The vertical layout: title block, rows, axis block, legend, footer."""
    text_w = fig_w - 2 * MARGIN_IN
    title_lines = m.wrap(title, text_w, 3, size=FS_TITLE, weight="bold")
    sub_lines = m.wrap(subtitle, text_w, 2, size=FS_SMALL) if subtitle else []
    top_h = 0.15 + len(title_lines) * FS_TITLE * 1.25 / 72 + len(sub_lines) * FS_SMALL * 1.3 / 72 + 0.12
    footer_lines = m.wrap(footer, text_w, 3, size=FS_SMALL - 0.5) if footer else []
    footer_h = 0.12 + len(footer_lines) * (FS_SMALL - 0.5) * 1.3 / 72
    axis_h = 0.62 if (axis.left_label or axis.right_label) else 0.45
    ncol, legend_h = _legend_columns(m, legend, text_w)
    rows_h = total * ROW_IN
    fig_h = top_h + rows_h + axis_h + legend_h + footer_h
    return _Frame(fig_w, fig_h, panel_x0, panel_w, rows_h, total, title_lines, sub_lines, footer_lines, footer_h,
                  legend_h, ncol, axis_h)


def _draw_panel(fig: Figure, fr: _Frame, axis: _Axis, first_data: float, vline_until: _Row | None, m: _Measure):
    """The plot panel: axis scale, limits, ticks, the null and pooled lines, favours labels."""
    bottom = fr.footer_h + fr.legend_h + fr.axis_h
    ax = fig.add_axes((fr.fx(fr.panel_x0), fr.fy(bottom), fr.fx(fr.panel_w), fr.fy(fr.rows_h)))
    ax.set_ylim(fr.total, 0)
    ax.set_xscale("log" if axis.log else "linear")
    ax.set_xlim(*axis.lim)
    for side in ("top", "left", "right"):
        ax.spines[side].set_visible(False)
    ax.yaxis.set_major_locator(NullLocator())
    ax.yaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_locator(NullLocator())
    ax.xaxis.set_minor_locator(NullLocator())
    ax.patch.set_alpha(0)
    _draw_x_axis(fig, ax, axis, m)
    if axis.null is not None:
        ax.plot([axis.null, axis.null], [first_data, fr.total], color=GREY, lw=0.9, zorder=1, solid_capstyle="butt")
    if axis.pooled is not None and _finite(axis.pooled) and axis.lim[0] < axis.pooled < axis.lim[1]:
        until = vline_until.y + vline_until.h / 2 if vline_until is not None else fr.total
        ax.plot([axis.pooled] * 2, [first_data, until], color=GREY, lw=0.8, ls=(0, (4, 3)), zorder=1)
    if axis.left_label:
        ax.annotate(f"← {axis.left_label}", xy=(axis.null or 1, 0), xycoords=("data", "axes fraction"),
                    xytext=(-5, -15), textcoords="offset points", ha="right", va="top", fontsize=FS_SMALL,
                    color=INK, annotation_clip=False)
    if axis.right_label:
        ax.annotate(f"{axis.right_label} →", xy=(axis.null or 1, 0), xycoords=("data", "axes fraction"),
                    xytext=(5, -15), textcoords="offset points", ha="left", va="top", fontsize=FS_SMALL,
                    color=INK, annotation_clip=False)
    return ax


#: the panel's x axis, in points: tick length, gap from tick to label, the labels' size; the gap
#: from the labels to the axis title (wider when the favours labels sit between them)
_TICK_PT, _TICK_PAD_PT, _TICK_FS = 3.5, 3.5, 8
_TITLE_PAD_PT, _TITLE_PAD_FAVOURS_PT = 4, 13


def _draw_x_axis(fig: Figure, ax, axis: _Axis, m: _Measure) -> None:
    """The panel's x axis below its bottom spine: tick marks, their labels (``gid`` 'xtick') and the
    axis title (``gid`` 'xlabel'), where matplotlib's axis would put them. Placed here once (the
    ticks of a forest plot are fixed) rather than by matplotlib's axis, which makes and measures its
    ticks again at every save."""
    lo, hi = axis.lim
    span = abs(hi - lo) * 1e-9
    ticks = [t for t in axis.ticks if lo - span <= t <= hi + span]
    xaxis = ax.get_xaxis_transform()  # x in data, y in axes fraction: 0 is the bottom spine
    ax.plot(ticks, [0.0] * len(ticks), lw=0, marker=TICKDOWN, ms=_TICK_PT, mew=_RC["xtick.major.width"], color=INK,
            transform=xaxis, clip_on=False)
    below = mtransforms.offset_copy(xaxis, fig=fig, y=-(_TICK_PT + _TICK_PAD_PT), units="points")
    for t in ticks:
        ax.text(t, 0.0, axis.fmt(t), transform=below, ha="center", va="top", fontsize=_TICK_FS, color=INK,
                gid="xtick", parse_math=False, clip_on=False)
    pad = _TITLE_PAD_FAVOURS_PT if (axis.left_label or axis.right_label) else _TITLE_PAD_PT
    drop = _TICK_PT + _TICK_PAD_PT + m.line_height(size=_TICK_FS) + pad
    title = mtransforms.offset_copy(ax.transAxes, fig=fig, y=-drop, units="points")
    ax.text(0.5, 0.0, axis.label, transform=title, ha="center", va="top", fontsize=_TICK_FS, color=INK, gid="xlabel",
            parse_math=False, clip_on=False)


def _draw_rows(fig: Figure, ax, fr: _Frame, rows: list[_Row], cols: list[_Col], axis: _Axis,
               panel_header: str) -> None:
    """Every row's text cells, notes and marker; the header row with the panel header and a rule."""
    tr = mtransforms.blended_transform_factory(fig.transFigure, ax.transData)
    lo_lim, hi_lim = axis.lim
    for r in rows:
        weight = "bold" if _is_bold(r) else "normal"
        style = "italic" if r.italic else "normal"
        for col in cols:
            lines = r.wrapped.get(col.key)
            if not lines:
                continue
            xpos = {"left": col.x0, "right": col.x0 + col.width, "center": col.x0 + col.width / 2}[col.align]
            # headers sit on the rule (bottom-aligned, as RevMan); cells are centred on their row
            ypos, va = (r.y + r.h / 2 - 0.16, "baseline") if r.kind == "header" else (r.y, "center_baseline")
            fig.text(fr.fx(xpos), ypos, "\n".join(lines), transform=tr, ha=col.align, va=va, fontsize=col.size,
                     fontweight=weight, fontstyle=style, color=INK, linespacing=1.2, parse_math=False)
        if "_note" in r.wrapped:
            fig.text(fr.fx(MARGIN_IN), r.y, "\n".join(r.wrapped["_note"]), transform=tr, ha="left", va="center",
                     fontsize=FS_SMALL, fontstyle=style, color=INK, linespacing=1.2, parse_math=False)
        if r.kind == "header":
            fig.text(fr.fx(fr.panel_x0 + fr.panel_w / 2), r.y + r.h / 2 - 0.16, panel_header, transform=tr,
                     ha="center", va="baseline", fontsize=FS, fontweight="bold", color=INK, linespacing=1.2,
                     parse_math=False)
            rule_y = r.y + r.h / 2 + 0.1
            fig.add_artist(Line2D([fr.fx(MARGIN_IN), fr.fx(fr.fig_w - MARGIN_IN)], [rule_y, rule_y], transform=tr,
                                  color=GREY, lw=0.6))
        _draw_marker(ax, r, lo_lim, hi_lim)


def _draw_legend(fig: Figure, fr: _Frame, legend: list[tuple[Any, str]], m: _Measure) -> None:
    """The legend under the axis, centred, read row by row: each key (a short line with its marker,
    drawn with the handle's style) and its label, in columns as wide as their widest item.

    Placed from the measured label widths, as the table is: matplotlib's Legend would lay out the
    same items again at every save, an eighth of a figure's drawing time."""
    if not legend:
        return
    em = FS_SMALL / 72
    ncol = fr.legend_ncol
    key_w, pad = _KEY_EM * em, _KEY_PAD_EM * em
    widths = [key_w + pad + m.width(label, size=FS_SMALL) for _, label in legend]
    col_w = [max(widths[c::ncol]) for c in range(ncol)]
    x0 = (fr.fig_w - sum(col_w) - (ncol - 1) * _COLUMN_GAP_EM * em) / 2
    top = fr.footer_h + fr.legend_h - 0.06
    for i, (handle, label) in enumerate(legend):
        row, col = divmod(i, ncol)
        x = x0 + sum(col_w[:col]) + col * _COLUMN_GAP_EM * em
        y = fr.fy(top - (row + 0.5) * _LEGEND_ROW_EM * em)
        _draw_key(fig, handle, fr.fx(x), fr.fx(x + key_w), y)
        fig.text(fr.fx(x + key_w + pad), y, label, ha="left", va="center", fontsize=FS_SMALL, color=INK,
                 parse_math=False)


def _draw_key(fig: Figure, handle: Line2D, x0: float, x1: float, y: float) -> None:
    """A legend key in figure coordinates: the handle's line across it, its marker in the middle."""
    ls, lw = handle.get_linestyle(), handle.get_linewidth()
    if lw > 0 and ls not in ("None", "none", "", " "):
        fig.add_artist(Line2D([x0, x1], [y, y], transform=fig.transFigure, color=handle.get_color(), lw=lw,
                              ls=ls, solid_capstyle="butt"))
    if handle.get_marker() not in (None, "None", "none", "", " "):
        fig.add_artist(Line2D([(x0 + x1) / 2], [y], transform=fig.transFigure, lw=0, marker=handle.get_marker(),
                              ms=handle.get_markersize(), mfc=handle.get_markerfacecolor(),
                              mec=handle.get_markeredgecolor(), mew=handle.get_markeredgewidth()))


def _draw_titles(fig: Figure, fr: _Frame) -> None:
    """Title and subtitle at the top, the footer (the stamp) at the bottom."""
    y_top = fr.fig_h - 0.15
    fig.text(fr.fx(MARGIN_IN), fr.fy(y_top), "\n".join(fr.title_lines), ha="left", va="top", fontsize=FS_TITLE,
             fontweight="bold", color=INK, linespacing=1.15, parse_math=False)
    if fr.sub_lines:
        y_sub = y_top - len(fr.title_lines) * FS_TITLE * 1.25 / 72 - 0.03
        fig.text(fr.fx(MARGIN_IN), fr.fy(y_sub), "\n".join(fr.sub_lines), ha="left", va="top", fontsize=FS_SMALL,
                 color=GREY, linespacing=1.2, parse_math=False)
    if fr.footer_lines:
        fig.text(fr.fx(MARGIN_IN), fr.fy(0.08), "\n".join(fr.footer_lines), ha="left", va="bottom",
                 fontsize=FS_SMALL - 0.5, color=GREY, linespacing=1.2, parse_math=False)


def _render(*, title: str, subtitle: str, left: list[_Col], right: list[_Col], rows: list[_Row],
            axis: _Axis, panel_header: str, footer: str, legend: list[tuple[Any, str]],
            vline_until: _Row | None = None) -> Figure:
    """Lay out and draw a table-with-plot-panel figure (forest or cumulative forest plot).

    Steps: measure the columns, place them around the plot panel, wrap the cells into rows, lay
    out the figure vertically, then draw the panel, the rows, the legend and the titles.
    """
    fig = _new_figure()
    m = _Measure(fig)
    cols = left + right
    header = _Row("header", {c.key: c.header for c in cols}, bold=True)
    all_rows = [header, _Row("gap", min_units=0.35), *rows, _Row("gap", min_units=0.4)]
    _column_widths(m, cols, all_rows)
    left_end, panel_x0, panel_w, fig_w = _place_columns(left, right)
    total = _wrap_rows(m, all_rows, cols, max(left_end - MARGIN_IN, 2.5), panel_header)
    fr = _layout(m, title=title, subtitle=subtitle, footer=footer, axis=axis, legend=legend, fig_w=fig_w,
                 panel_x0=panel_x0, panel_w=panel_w, total=total)
    fig.set_size_inches(fr.fig_w, fr.fig_h)
    first_data = all_rows[2].y - all_rows[2].h / 2 if len(all_rows) > 3 else 0
    ax = _draw_panel(fig, fr, axis, first_data, vline_until, m)
    _draw_rows(fig, ax, fr, all_rows, cols, axis, panel_header)
    _draw_legend(fig, fr, legend, m)
    _draw_titles(fig, fr)
    return fig


def _legend_width(item_w: list[float], ncol: int) -> float:
    cols = [item_w[c::ncol] for c in range(ncol)]  # items are read row by row
    return (sum(max(c) for c in cols) + (len(cols) - 1) * _COLUMN_GAP_EM * FS_SMALL / 72 + 0.1) * 1.05


def _draw_marker(ax, r: _Row, lo_lim: float, hi_lim: float) -> None:
    if r.marker is None or not _finite(r.est):
        return
    y = r.y
    lo = r.lo if _finite(r.lo) else r.est
    hi = r.hi if _finite(r.hi) else r.est
    clo, chi = max(lo, lo_lim), min(hi, hi_lim)
    if r.marker in ("square", "circle"):
        if chi > clo:
            ax.plot([clo, chi], [y, y], color=INK, lw=1.0, zorder=3, solid_capstyle="butt")
        if lo < lo_lim:
            ax.plot([lo_lim], [y], marker="<", ms=5, color=INK, zorder=4, clip_on=False)
        if hi > hi_lim:
            ax.plot([hi_lim], [y], marker=">", ms=5, color=INK, zorder=4, clip_on=False)
        if lo_lim <= r.est <= hi_lim:
            if r.marker == "square":
                side = 3.5 + (11.0 - 3.5) * math.sqrt(max(0.0, min(1.0, r.size if r.size is not None else 0.5)))
                ax.plot([r.est], [y], marker="s", ms=side, color=r.color, mec=r.color, zorder=5, lw=0)
            else:
                ax.plot([r.est], [y], marker="o", ms=5.5, color=r.color, zorder=5, lw=0)
    elif r.marker == "diamond":
        half = min(0.34, r.h * 0.38)
        est = min(max(r.est, lo_lim), hi_lim)
        ax.add_patch(Polygon([(clo, y), (est, y - half), (chi, y), (est, y + half)], closed=True,
                             facecolor=r.color, edgecolor=r.color, lw=0.8, zorder=5))
    elif r.marker == "pi":
        ax.plot([clo, chi], [y, y], color=INK, lw=1.2, zorder=3, solid_capstyle="butt")
        for xv, inside in ((lo, lo >= lo_lim), (hi, hi <= hi_lim)):
            if inside:
                ax.plot([xv, xv], [y - 0.22, y + 0.22], color=INK, lw=1.2, zorder=3)
        if lo < lo_lim:
            ax.plot([lo_lim], [y], marker="<", ms=5, color=INK, zorder=4, clip_on=False)
        if hi > hi_lim:
            ax.plot([hi_lim], [y], marker=">", ms=5, color=INK, zorder=4, clip_on=False)


# ------------------------------------------------------------------------------ forest plot
def _het_text(p, scale_measure: str) -> str:
    if p is None or p.k <= 1:
        return "Heterogeneity: not applicable (k = 1)"
    parts = []
    if p.method != "FE" and _finite(p.tau2):
        t = _fmt_tau2(p.tau2)
        parts.append(f"tau² {t}" if t.startswith("<") else f"tau² = {t}")
    if _finite(p.i2):
        parts.append(f"I² = {p.i2:.0f}%")
    q = "likelihood-ratio test" if p.method == "GLMM" else "Q"  # a GLMM's q is its LRT (metafor QE.LRT)
    parts.append(f"{q} = {p.q:.2f} (df = {p.q_df}, {_fmt_p(p.q_p)})")
    return "Heterogeneity: " + ", ".join(parts)


def _effect_text(p) -> str:
    if p is None or not _finite(p.stat):
        return "Test for overall effect: not available"
    if p.test == "knha" and _finite(p.df):
        return f"Test for overall effect: t({p.df:g}) = {p.stat:.2f}, {_fmt_p(p.p)}"
    return f"Test for overall effect: z = {p.stat:.2f}, {_fmt_p(p.p)}"


def _subgroup_test_text(sg) -> str:
    if sg.q_between_dist == "F" and sg.q_between_df2 is not None:
        stat = f"F({sg.q_between_df}, {sg.q_between_df2}) = {sg.q_between:.2f}"
        return f"Test for subgroup differences: {stat}, {_fmt_p(sg.q_between_p)}"
    return (f"Test for subgroup differences: Q = {sg.q_between:.2f}, df = {sg.q_between_df}, "
            f"{_fmt_p(sg.q_between_p)}")


def _study_cells(row: Mapping, shown: Mapping, sc: _Scale, wmax: float) -> _Row:
    """A study's row: ``row`` the pooled row (label, class, counts), ``shown`` its row of
    :func:`~livemeta.analysis.studies.study_table` (estimate, interval and weight, as every output
    shows them). A derived interval is marked ‡ (its note says what was printed)."""
    scale = 100.0 if sc.percent else 1.0
    est, lo, hi = (scale * float(shown[k]) for k in ("estimate", "ci_low", "ci_high"))
    label = str(row.get("label") or row.get("trial") or row.get("trial_id") or "")
    unverified = "verified" in row and row["verified"] is not None and row["verified"] is not np.nan \
        and not _is_true(row["verified"])
    if unverified:
        label += " †"
    if shown["interval"] == "derived":
        label += " ‡"
    w = shown.get("weight")
    w = float(w) if _finite(_num(w)) else float("nan")
    cells = {
        "study": label,
        "class": _pretty(row.get("treatment_class")),
        "control": _pretty(row.get("control_type"), _CONTROL_WORDS),
        "est": sc.ci_text(est, lo, hi),
        "weight": f"{w:.1f}%" if _finite(w) else "",
    }
    if sc.measure in ("OR", "RR"):
        cells["exp_n"] = _nn(row.get("ai"), row.get("n1i"), row.get("bi"))
        cells["ctl_n"] = _nn(row.get("ci"), row.get("n2i"), row.get("di"))
    if sc.measure == "proportion":
        cells["events"] = _nn(row.get("xi"), row.get("ni"))
    size = (w / wmax) if (_finite(w) and wmax > 0) else 0.5
    return _Row("study", cells, est=est, lo=lo, hi=hi, size=size, marker="square")


def _nn(events, total=None, nonevents=None) -> str:
    e = _num(events)
    n = _num(total)
    if n is None and e is not None and _num(nonevents) is not None:
        n = e + _num(nonevents)
    if e is None or not math.isfinite(e):
        return ""
    if n is None or not math.isfinite(n):
        return f"{e:g}"
    return f"{e:g}/{n:g}"


def _pooled_row(label: str, p, sc: _Scale, weight: float | None, *, kind: str, color: str) -> _Row:
    est, lo, hi = (float(v) for v in sc.back([p.estimate, p.ci_low, p.ci_high]))
    cells = {"study": label, "est": sc.ci_text(est, lo, hi)}
    if weight is not None and _finite(weight):
        cells["weight"] = f"{weight:.1f}%"
    return _Row(kind, cells, est=est, lo=lo, hi=hi, marker="diamond", color=color)


def _pi_row(p, sc: _Scale) -> _Row | None:
    if p is None or p.method == "FE" or p.k < 2 or not _finite(p.pi_low, p.pi_high):
        return None
    from ..analysis.labels import pi_label

    est, lo, hi = (float(v) for v in sc.back([p.estimate, p.pi_low, p.pi_high]))
    lvl = f"{p.level * 100:g}%"
    label = f"{lvl} prediction interval ({pi_label(p.method, p.test, p.pi_dist, p.k)})"
    return _Row("pi", {"study": label, "est": f"[{sc.fmt(lo)}, {sc.fmt(hi)}]"},
                italic=True, est=est, lo=lo, hi=hi, marker="pi")


def forest_plot(result, *, footer: str = "") -> Figure:
    """A forest plot of an :class:`~livemeta.analysis.run.AnalysisResult`.

    One row per study (label, treatment class, control, events for 2x2 and single-arm data, the
    estimate with its CI as a square sized by weight, the numbers and the weight), then the pooled
    diamond with the prediction interval (random effects), heterogeneity and the test for the
    overall effect. With subgroups: a block per subgroup with its own diamond and heterogeneity,
    then the overall diamond and the test for subgroup differences. Each study's estimate, interval
    and weight are those of :func:`~livemeta.analysis.studies.study_table`: as printed when the
    printed CI is what was pooled, else implied by the pooled variance and marked ‡, with what was
    printed in a note.
    """
    with matplotlib.rc_context(_RC):
        return _forest(result, footer)


def _forest_columns(result, sc: _Scale) -> tuple[list[_Col], list[_Col]]:
    """The table columns left and right of the panel (a subgroup column is not repeated)."""
    spec, cols = result.spec, result.studies.columns
    left = [_Col("study", "Study", cap=3.1, max_lines=3)]
    if "treatment_class" in cols and spec.subgroup != "treatment_class":
        left.append(_Col("class", "Treatment class", cap=1.35, max_lines=2))
    if not sc.percent and "control_type" in cols and spec.subgroup != "control_type":
        left.append(_Col("control", "Control", cap=1.35, max_lines=2))
    if sc.measure in ("OR", "RR"):
        left += [_Col("exp_n", "Rechallenge\nn/N", align="right"), _Col("ctl_n", "Control\nn/N", align="right")]
    if sc.percent:
        left.append(_Col("events", "Responders\nn/N", align="right"))
    lvl = f"{spec.level * 100:g}%"
    right = [_Col("est", f"{sc.short} [{lvl} CI]", align="right"), _Col("weight", "Weight", align="right")]
    return left, right


def _subgroup_blocks(result, sc: _Scale, study_rows: list[_Row], records: list[dict]) -> list[_Row]:
    """Per subgroup: a heading, its studies, the subtotal diamond, heterogeneity and effect test."""
    spec, sg = result.spec, result.subgroups
    lvl = f"{spec.level * 100:g}%"
    groups = result.studies[spec.subgroup].fillna("(none)").astype(str).to_numpy()
    rows: list[_Row] = []
    for g in sg.groups:
        members = [i for i, gi in enumerate(groups) if gi == str(g)]
        pg = sg.subgroups[g]
        rows.append(_Row("group", {"study": f"{_pretty(g)} (k = {len(members)})"}, bold=True))
        rows += [study_rows[i] for i in members]
        wsum = float(np.nansum([_num(records[i].get("weight")) or np.nan for i in members]))
        rows.append(_pooled_row(f"Subtotal ({lvl} CI)", pg, sc, wsum, kind="subtotal", color=SUBTOTAL_COLOR))
        rows.append(_Row("note", note=_het_text(pg, sc.measure)))
        if not sc.percent:  # a test of logit(p) = 0 means nothing for a response rate
            rows.append(_Row("note", note=_effect_text(pg)))
        rows.append(_Row("gap", min_units=0.5))
    return rows


def _forest_rows(result, sc: _Scale) -> tuple[list[_Row], list[_Row], _Row, _Row | None]:
    """The rows of a forest plot: studies (in subgroup blocks when there are subgroups), the total
    diamond, the prediction interval and the notes under it. Returns (rows, study rows, total row,
    prediction-interval row or None)."""
    spec, overall = result.spec, result.overall
    lvl = f"{spec.level * 100:g}%"
    from ..analysis.studies import derived_note, study_table

    w = result.studies["weight"].to_numpy(float) if result.k else np.array([])
    wmax = float(np.nanmax(w)) if np.isfinite(w).any() else 1.0  # a GLMM has no study weights
    records = result.studies.to_dict("records")
    shown = study_table(result).to_dict("records")
    study_rows = [_study_cells(r, d, sc, wmax) for r, d in zip(records, shown)]
    sg = result.subgroups
    rows = _subgroup_blocks(result, sc, study_rows, records) if sg is not None else list(study_rows)
    total_row = _pooled_row(f"Total ({lvl} CI)", overall, sc, 100.0, kind="pooled", color=POOLED_COLOR)
    rows.append(total_row)
    pi = _pi_row(overall, sc)
    if pi is not None:
        rows.append(pi)
    rows.append(_Row("note", note=_het_text(overall, sc.measure)))
    if not sc.percent:
        rows.append(_Row("note", note=_effect_text(overall)))
    if sg is not None:
        tau_note = " (separate tau² per subgroup)" if sg.tau2_model == "separate" else " (common tau², moderator model)"
        rows.append(_Row("note", note=_subgroup_test_text(sg) + (tau_note if spec.method != "FE" else "")))
    elif result.note:
        rows.append(_Row("note", note=f"Note: {result.note}", italic=True))
    for d in shown:
        if d["interval"] == "derived":
            rows.append(_Row("note", note=f"‡ {derived_note(d)}", italic=True))
    from ..analysis.present import unit_note

    if unit_note(result):
        rows.append(_Row("note", note=unit_note(result), italic=True))
    if overall.message:
        rows.append(_Row("note", note=f"Note: {overall.message}", italic=True))
    return rows, study_rows, total_row, pi


def _forest_axis(rows: list[_Row], sc: _Scale, pooled_est: float) -> _Axis:
    """The panel's axis: percent for proportions, a symmetric log axis around 1 for ratios."""
    values = [v for r in rows for v in (r.lo, r.hi, r.est) if r.marker]
    if sc.percent:
        lim, ticks = _pct_limits(values)
        return _Axis(False, lim, ticks, "Proportion responding, % (back-transformed from logit)",
                     null=None, pooled=pooled_est, fmt=lambda t: f"{t:g}")
    lim, ticks = _log_limits(values)
    return _Axis(True, lim, ticks, f"{sc.name} (log scale)", null=1.0, pooled=pooled_est,
                 left_label=sc.left_label, right_label=sc.right_label)


def _forest_legend(spec, axis: _Axis, pi: _Row | None, study_rows: list[_Row]) -> list[tuple[Any, str]]:
    """What the markers and lines mean, and what the dagger marks."""
    lvl = f"{spec.level * 100:g}%"
    legend = [
        (Line2D([], [], color=INK, lw=1.0, marker="s", ms=6, mfc=STUDY_COLOR, mec=STUDY_COLOR),
         (f"study proportion and exact {lvl} CI (Clopper-Pearson; "
          + ("a GLMM has no study weights)" if spec.method == "GLMM" else "square area ∝ weight)")
          if spec.measure == "proportion" else f"study estimate and {lvl} CI (square area ∝ weight)")),
        (Line2D([], [], lw=0, marker="D", ms=7, mfc=POOLED_COLOR, mec=POOLED_COLOR),
         f"pooled estimate and {lvl} CI"),
    ]
    if pi is not None:
        legend.append((Line2D([], [], color=INK, lw=1.2, marker="|", ms=6), f"{lvl} prediction interval"))
    elif spec.method == "FE":
        legend.append((Line2D([], [], lw=0), "fixed effect: prediction interval = CI, not drawn"))
    else:
        legend.append((Line2D([], [], lw=0), "prediction interval not estimable (k < 2)"))
    legend.append((Line2D([], [], color=GREY, lw=0.8, ls=(0, (4, 3))), "pooled estimate"))
    if axis.null is not None:
        legend.append((Line2D([], [], color=GREY, lw=0.9), "no difference (1)"))
    if any(" †" in r.cells.get("study", "") for r in study_rows):
        legend.append((Line2D([], [], lw=0), "† includes unverified values"))
    if any(r.cells.get("study", "").endswith(" ‡") for r in study_rows):
        legend.append((Line2D([], [], lw=0), "‡ interval implied by the pooled (derived) variance; printed one in the notes"))
    return legend


def _forest(result, footer: str) -> Figure:
    """Build the forest plot: columns, rows, axis and legend, then :func:`_render`."""
    spec, sc = result.spec, display_scale(result.spec)
    overall = result.overall
    lvl = f"{spec.level * 100:g}%"
    k = len(result.studies)
    title = spec.title
    design = "single-arm trials" if sc.percent else "RCTs"
    ntrials = len(dict.fromkeys(result.studies["trial_id"])) if k else 0
    from ..analysis.present import unit_text

    unit = unit_text(result)
    model = "binomial likelihood" if spec.method == "GLMM" else "inverse variance"
    subtitle = (f"{spec.id} · {sc.name} ({'pooled on the logit scale' if sc.percent else 'log scale'}), "
                f"{model}, {method_label(spec.method, spec.test)}, {lvl} CI · "
                f"k = {k} ({ntrials} {design}{'; ' + unit if unit else ''})")
    if overall is None or k == 0:
        return _empty(title, subtitle, "No studies in this analysis at this revision.", footer)
    left, right = _forest_columns(result, sc)
    rows, study_rows, total_row, pi = _forest_rows(result, sc)
    axis = _forest_axis(rows, sc, float(sc.back(overall.estimate)))
    panel_header = (f"{sc.name}\nGLMM (binomial-normal, ML), {lvl} CI" if spec.method == "GLMM"
                    else f"{sc.name}\nIV, {method_label(spec.method, spec.test)}, {lvl} CI")
    return _render(title=title, subtitle=subtitle, left=left, right=right, rows=rows, axis=axis,
                   panel_header=panel_header, footer=footer, legend=_forest_legend(spec, axis, pi, study_rows),
                   vline_until=total_row)


def _empty(title: str, subtitle: str, message: str, footer: str) -> Figure:
    fig = _new_figure(8.0, 2.2)
    m = _Measure(fig)
    lines = m.wrap(title, 7.5, 3, size=FS_TITLE, weight="bold")
    fig.text(MARGIN_IN / 8, 1 - 0.15 / 2.2, "\n".join(lines), ha="left", va="top", fontsize=FS_TITLE,
             fontweight="bold", color=INK, parse_math=False)
    fig.text(MARGIN_IN / 8, 1 - (0.2 + len(lines) * 0.2) / 2.2, "\n".join(m.wrap(subtitle, 7.5, 2, size=FS_SMALL)),
             ha="left", va="top", fontsize=FS_SMALL, color=GREY, parse_math=False)
    fig.text(0.5, 0.45, message, ha="center", va="center", fontsize=FS + 1, color=INK, parse_math=False)
    if footer:
        fig.text(MARGIN_IN / 8, 0.04, "\n".join(m.wrap(footer, 7.5, 2, size=FS_SMALL - 0.5)), ha="left",
                 va="bottom", fontsize=FS_SMALL - 0.5, color=GREY, parse_math=False)
    return fig


# ------------------------------------------------------------------------------ funnel plot
def _nice_log_ticks(lo: float, hi: float) -> list[float]:
    ladders = (
        [0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1, 1.25, 1.5, 1.75, 2],
        [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4],
        [0.1, 0.2, 0.5, 1, 2, 5, 10],
        [0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50],
        [0.001, 0.01, 0.1, 1, 10, 100, 1000],
    )
    for ladder in ladders:
        inside = [t for t in ladder if lo <= t <= hi]
        if 3 <= len(inside) <= 7:
            return inside
    return [t for t in ladders[-1] if lo <= t <= hi] or [lo, hi]


def funnel_plot(result, *, footer: str = "") -> Figure:
    """Funnel plot: effect (ratio on a log axis, proportion on a logit axis) vs its standard error.

    The y axis (standard error) is inverted; the pooled estimate is a vertical line and the pseudo
    confidence region (estimate ± z·SE) a shaded funnel. With k >= 10 both variants of Egger's test
    are printed under the plot (metafor's ``regtest()`` default: meta-regression on the SE with the
    analysis's method; and the classical 1997 regression); with k < 10 the plot says they were not
    computed.
    """
    with matplotlib.rc_context(_RC):
        return _funnel(result, footer)


def _egger_notes(result, sc: _Scale, k: int) -> list[str]:
    """The text under a funnel plot: both Egger tests (k >= 10) or why they were not computed,
    and what the shaded region is."""
    spec, lvl = result.spec, result.spec.level
    notes: list[str] = []
    if k >= EGGER_MIN_K:
        from ..pooling.bias import egger_test

        yi = result.studies["yi"].to_numpy(float)
        vi = result.studies["vi"].to_numpy(float)
        eg = egger_test(yi, vi, method=spec.rma_method, test=spec.test, level=lvl)
        r, c = eg.rma, eg.classical
        stat = f"t({r.df}) = {r.stat:.2f}" if r.df is not None else f"z = {r.stat:.2f}"
        notes.append(f"Egger's test (metafor regtest default: rma({spec.rma_method}) with SE as moderator): "
                     f"{stat}, {_fmt_p(r.p)}; limit estimate {sc.short.split(',')[0]} "
                     f"{_nat_text(sc, r.limit_estimate)} [{_nat_text(sc, r.limit_ci_low)}, "
                     f"{_nat_text(sc, r.limit_ci_high)}]")
        notes.append(f"Classical Egger test (1997, OLS of yi/SE on 1/SE): intercept = {c.intercept:.2f} "
                     f"(SE {c.intercept_se:.2f}), t({c.df}) = {c.t:.2f}, {_fmt_p(c.p)}")
    else:
        notes.append(f"Egger's test not computed (k < {EGGER_MIN_K}): with {k} "
                     f"{'study' if k == 1 else 'studies'} a funnel plot cannot show small-study effects reliably.")
    from ..pooling._dist import z_crit

    z = z_crit(lvl)
    notes.append(f"Shaded: pseudo {lvl * 100:g}% confidence region (pooled estimate ± {z:.2f}·SE).")
    return notes


def _funnel_x_axis(ax, sc: _Scale, xs: np.ndarray) -> None:
    """A logit axis in percent for proportions, a log axis for ratios, 5% padding either side."""
    lo_x, hi_x = float(np.nanmin(xs)), float(np.nanmax(xs))
    if sc.percent:
        ax.set_xscale("logit")
        pad = (math.log(hi_x / (1 - hi_x)) - math.log(lo_x / (1 - lo_x))) * 0.05
        ax.set_xlim(1 / (1 + math.exp(-(math.log(lo_x / (1 - lo_x)) - pad))),
                    1 / (1 + math.exp(-(math.log(hi_x / (1 - hi_x)) + pad))))
        cand = [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999]
        lo_l, hi_l = ax.get_xlim()
        ax.xaxis.set_major_locator(FixedLocator([t for t in cand if lo_l <= t <= hi_l]))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda t, _p: f"{t * 100:g}"))
        ax.set_xlabel("Proportion responding, % (logit axis)", fontsize=8)
    else:
        ax.set_xscale("log")
        pad = (math.log(hi_x) - math.log(lo_x)) * 0.05
        ax.set_xlim(lo_x * math.exp(-pad), hi_x * math.exp(pad))
        ax.xaxis.set_major_locator(FixedLocator(_nice_log_ticks(*ax.get_xlim())))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda t, _p: f"{t:g}"))
        ax.set_xlabel(f"{sc.name} (log scale)", fontsize=8)
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())


def _funnel_panel(ax, result, sc: _Scale) -> None:
    """The funnel: pseudo-confidence region, pooled and null lines, the studies (hollow when
    unverified), the axes and a legend right of the panel (never over a study)."""
    k, lvl = len(result.studies), result.spec.level
    yi = result.studies["yi"].to_numpy(float)
    se = np.sqrt(result.studies["vi"].to_numpy(float))
    from ..pooling._dist import z_crit

    z = z_crit(lvl)
    est = float(result.overall.estimate)
    se_max = float(np.nanmax(se)) * 1.08 if k else 1.0
    grid = np.linspace(0.0, se_max, 50)

    def nat(v):
        v = np.asarray(v, dtype=float)
        return 1 / (1 + np.exp(-v)) if sc.percent else np.exp(v)

    lo_f, hi_f = nat(est - z * grid), nat(est + z * grid)
    ax.fill_betweenx(grid, lo_f, hi_f, color="#e8edf3", lw=0, zorder=0)
    ax.plot(lo_f, grid, color=GREY, lw=0.8, ls=(0, (4, 3)), zorder=1)
    ax.plot(hi_f, grid, color=GREY, lw=0.8, ls=(0, (4, 3)), zorder=1)
    ax.axvline(float(nat(est)), color=INK, lw=1.0, zorder=2)
    if not sc.percent:
        ax.axvline(1.0, color=GREY, lw=0.8, ls=":", zorder=1)
    studies = result.studies
    verified = studies["verified"].map(_is_true).to_numpy() if "verified" in studies else np.ones(k, bool)
    ax.scatter(nat(yi[verified]), se[verified], s=30, color=STUDY_COLOR, edgecolor=STUDY_COLOR, zorder=4,
               label="study")
    if (~verified).any():
        ax.scatter(nat(yi[~verified]), se[~verified], s=30, facecolor="white", edgecolor=STUDY_COLOR, lw=1.2,
                   zorder=4, label="study with unverified values")
    ax.set_ylim(se_max, 0)
    _funnel_x_axis(ax, sc, np.concatenate([nat(yi), lo_f, hi_f]))
    ax.set_ylabel("Standard error", fontsize=8)
    ax.tick_params(labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    handles = [Line2D([], [], lw=0, marker="o", ms=5.5, mfc=STUDY_COLOR, mec=STUDY_COLOR)]
    labels = ["study"]
    if (~verified).any():
        handles.append(Line2D([], [], lw=0, marker="o", ms=5.5, mfc="white", mec=STUDY_COLOR, mew=1.2))
        labels.append("study with unverified values")
    handles += [Line2D([], [], color=INK, lw=1.0), Line2D([], [], color=GREY, lw=0.8, ls=(0, (4, 3)))]
    labels += ["pooled estimate", f"pseudo {lvl * 100:g}% limits"]
    if not sc.percent:
        handles.append(Line2D([], [], color=GREY, lw=0.8, ls=":"))
        labels.append("no difference (1)")
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.03, 1.0), fontsize=FS_SMALL, frameon=False,
              borderaxespad=0.0, handlelength=2.0)


def _funnel(result, footer: str) -> Figure:
    """Build the funnel plot: the text block sizes the figure, then the panel and the texts."""
    spec, sc = result.spec, display_scale(result.spec)
    k = len(result.studies)
    title = f"Funnel plot: {spec.title}"
    subtitle = f"{spec.id} · {method_label(spec.method, spec.test)} · k = {k}"
    if result.overall is None or k == 0:
        return _empty(title, subtitle, "No studies in this analysis at this revision.", footer)
    fig_w = 8.5
    fig = _new_figure(fig_w, 6.4)
    m = _Measure(fig)
    text_w = fig_w - 2 * MARGIN_IN
    note_lines = [ln for n in _egger_notes(result, sc, k) for ln in m.wrap(n, text_w, 3, size=FS_SMALL)]
    title_lines = m.wrap(title, text_w, 2, size=FS_TITLE, weight="bold")
    footer_lines = m.wrap(footer, text_w, 3, size=FS_SMALL - 0.5) if footer else []
    top_h = 0.2 + len(title_lines) * FS_TITLE * 1.25 / 72 + FS_SMALL * 1.3 / 72 + 0.15
    footer_h = 0.12 + len(footer_lines) * (FS_SMALL - 0.5) * 1.3 / 72
    notes_h = len(note_lines) * FS_SMALL * 1.3 / 72 + 0.15
    xaxis_h, panel_h = 0.5, 3.9
    fig_h = top_h + panel_h + xaxis_h + notes_h + footer_h
    fig.set_size_inches(fig_w, fig_h)
    left_in, legend_in = 0.75, 2.0  # the legend sits right of the axes, never over a study
    ax = fig.add_axes((left_in / fig_w, (footer_h + notes_h + xaxis_h) / fig_h,
                       (fig_w - left_in - legend_in - 0.1) / fig_w, panel_h / fig_h))
    _funnel_panel(ax, result, sc)
    fig.text(MARGIN_IN / fig_w, 1 - 0.15 / fig_h, "\n".join(title_lines), ha="left", va="top", fontsize=FS_TITLE,
             fontweight="bold", color=INK, linespacing=1.15, parse_math=False)
    fig.text(MARGIN_IN / fig_w, 1 - (0.18 + len(title_lines) * FS_TITLE * 1.25 / 72) / fig_h, subtitle, ha="left",
             va="top", fontsize=FS_SMALL, color=GREY, parse_math=False)
    fig.text(MARGIN_IN / fig_w, (footer_h + notes_h - 0.05) / fig_h, "\n".join(note_lines), ha="left", va="top",
             fontsize=FS_SMALL, color=INK, linespacing=1.25, parse_math=False)
    if footer_lines:
        fig.text(MARGIN_IN / fig_w, 0.08 / fig_h, "\n".join(footer_lines), ha="left", va="bottom",
                 fontsize=FS_SMALL - 0.5, color=GREY, linespacing=1.2, parse_math=False)
    return fig


def _nat_text(sc: _Scale, v: float) -> str:
    return sc.fmt(float(sc.back(v)))


# -------------------------------------------------------------------------- cumulative plot
def _rows_list(rows) -> list[dict]:
    if rows is None:
        return []
    if hasattr(rows, "to_dict"):
        return list(rows.to_dict("records"))
    return [dict(r) for r in rows]


def cumulative_plot(rows, *, title: str, measure: str, footer: str = "", level: float = 0.95) -> Figure:
    """A cumulative forest plot: one row per step, each the pooled estimate after adding a trial.

    ``rows`` is a DataFrame or an iterable of mappings, in step order, with

    * ``label`` (``"+ CONTACT-01 (2024)"`` as given; a label without the leading ``+`` gets one and
      the year of ``year`` or ``first_published``), or ``trial``/``trial_id``;
    * ``estimate``, ``ci_low``, ``ci_high`` on the natural scale (a ratio, or a proportion in
      0..1 for ``measure="proportion"``); or ``log_estimate``/``yi`` with ``log_ci_low``/``log_ci_high``
      on the analysis scale (log, or logit for proportions);
    * optionally ``k``, ``i2`` (percent) and ``p``.
    """
    with matplotlib.rc_context(_RC):
        return _cumulative(rows, title, measure, footer, level)


def _cumulative(rows, title: str, measure: str, footer: str, level: float) -> Figure:
    class _S:  # enough of an AnalysisSpec for display_scale
        pass

    s = _S()
    s.measure, s.view = measure, ""
    sc = display_scale(s)
    data = _rows_list(rows)
    lvl = f"{level * 100:g}%"
    subtitle = f"Cumulative meta-analysis: each row pools the trials up to and including it · {lvl} CI"
    if not data:
        return _empty(f"Cumulative: {title}", subtitle, "No steps to show.", footer)
    has_k = any(_finite(_num(d.get("k"))) for d in data)
    has_i2 = any(_finite(_num(d.get("i2"))) for d in data)
    left = [_Col("study", "Trial added", cap=3.2, max_lines=2)]
    if has_k:
        left.append(_Col("k", "k", align="right"))
    right = [_Col("est", f"{sc.short} [{lvl} CI]", align="right")]
    if has_i2:
        right.append(_Col("i2", "I²", align="right"))
    out_rows: list[_Row] = []
    for j, d in enumerate(data):
        label = str(d.get("label") or d.get("trial") or d.get("trial_id") or d.get("added") or f"step {j + 1}")
        if not label.startswith("+"):
            year = next((d.get(c) for c in ("year", "first_published") if d.get(c) is not None), None)
            if hasattr(year, "year"):  # a date
                year = year.year
            year = int(_num(year)) if _finite(_num(year)) else (str(year) if year and year == year else "")
            label = f"+ {label}" + (f" ({year})" if year else "")
        est, lo, hi = (_num(d.get(key)) for key in ("estimate", "ci_low", "ci_high"))
        if est is None:
            raw = [_num(d.get(key)) for key in ("log_estimate", "log_ci_low", "log_ci_high")]
            if raw[0] is None:
                raw[0] = _num(d.get("yi"))
            est, lo, hi = (float(sc.back(v)) if v is not None else None for v in raw)
        elif sc.percent:
            est, lo, hi = (100 * v if v is not None else None for v in (est, lo, hi))
        cells = {"study": str(label), "est": sc.ci_text(est, lo, hi) if _finite(est) else "not estimable"}
        if has_k and _finite(_num(d.get("k"))):
            cells["k"] = f"{int(_num(d['k']))}"
        if has_i2 and _finite(_num(d.get("i2"))):
            cells["i2"] = f"{_num(d['i2']):.0f}%"
        last = j == len(data) - 1
        out_rows.append(_Row("point", cells, bold=last, est=est, lo=lo, hi=hi, marker="circle",
                             color=POOLED_COLOR if last else STUDY_COLOR))
    values = [v for r in out_rows for v in (r.est, r.lo, r.hi)]
    final = out_rows[-1].est
    if sc.percent:
        lim, ticks = _pct_limits(values)
        axis = _Axis(False, lim, ticks, "Proportion responding, %", pooled=final)
    else:
        lim, ticks = _log_limits(values)
        axis = _Axis(True, lim, ticks, f"{sc.name} (log scale)", null=1.0, pooled=final,
                     left_label=sc.left_label, right_label=sc.right_label)
    legend = [
        (Line2D([], [], color=INK, lw=1.0, marker="o", ms=5, mfc=STUDY_COLOR, mec=STUDY_COLOR),
         f"cumulative pooled estimate and {lvl} CI"),
        (Line2D([], [], color=GREY, lw=0.8, ls=(0, (4, 3))), "latest pooled estimate"),
    ]
    return _render(title=f"Cumulative: {title}", subtitle=subtitle, left=left, right=right, rows=out_rows,
                   axis=axis, panel_header=f"{sc.name}\n{lvl} CI", footer=footer, legend=legend)


# ------------------------------------------------------------------------------- bubble plot
def _titles(fig: Figure, fig_w: float, fig_h: float, title: str, subtitle: str, notes: list[str],
            footer: str, m: _Measure, ax=None) -> None:
    """Title (wrapped to two lines), subtitle, and notes + footer at the bottom (wrapped with some
    slack: glyphs render a few percent wider at 150 dpi than measured at the layout dpi); then the
    axes ``ax`` fitted between them, its tick labels and axis titles included (:func:`_fit_axes`)."""
    width = fig_w - 2 * MARGIN_IN - 0.4
    lh_title = m.line_height(FS_TITLE) / 72
    tlines = m.wrap(title, width, 2, size=FS_TITLE, weight="bold")
    fig.text(MARGIN_IN / fig_w, 1 - 0.15 / fig_h, "\n".join(tlines), ha="left", va="top", fontsize=FS_TITLE,
             fontweight="bold", color=INK, linespacing=1.2, parse_math=False)
    sub_top = 0.15 + lh_title * (1 + 1.2 * (len(tlines) - 1)) + 0.06
    fig.text(MARGIN_IN / fig_w, 1 - sub_top / fig_h, m.ellipsize(subtitle, width, size=FS_SMALL),
             ha="left", va="top", fontsize=FS_SMALL, color=GREY, parse_math=False)
    lines = [ln for n in notes for ln in m.wrap(n, width, 3, size=FS_SMALL)]
    if footer:
        lines += m.wrap(footer, width, 3, size=FS_SMALL)
    fig.text(MARGIN_IN / fig_w, 0.08 / fig_h, "\n".join(lines), ha="left", va="bottom", fontsize=FS_SMALL,
             color=INK, linespacing=1.25, parse_math=False)
    if ax is not None:
        lh = m.line_height(FS_SMALL) / 72
        top = sub_top + lh + 0.12
        bottom = 0.08 + lh * (1 + 1.25 * (len(lines) - 1)) + 0.12 if lines else 0.2
        _fit_axes(fig, ax, m, top_in=top, bottom_in=bottom)


def _fit_axes(fig: Figure, ax, m: _Measure, *, top_in: float, bottom_in: float) -> None:
    """Move and size ``ax`` so that it, with its tick labels and axis titles, fills the figure between
    ``top_in`` and ``bottom_in`` inches from its edges (and the side margins): nothing of it runs into
    the titles or the notes, or off the figure."""
    fig_w, fig_h = fig.get_size_inches()
    r = m.renderer
    for _ in range(2):  # the tick labels follow the size; a second pass settles them
        box, tight = ax.get_window_extent(r), ax.get_tightbbox(r, for_layout_only=True)
        dpi = fig.dpi
        left = (box.x0 - tight.x0) / dpi
        right = (tight.x1 - box.x1) / dpi
        below = (box.y0 - tight.y0) / dpi
        above = (tight.y1 - box.y1) / dpi
        x0 = MARGIN_IN + left
        y0 = bottom_in + below
        w = fig_w - MARGIN_IN - right - x0
        h = fig_h - top_in - above - y0
        ax.set_position((x0 / fig_w, y0 / fig_h, max(w, 1.0) / fig_w, max(h, 1.0) / fig_h))


def _label_points(ax, xs, ys, labels, m: _Measure, *, size: float = 6.5, color: str = GREY,
                  avoid=(), radii=None) -> None:
    """Label each point beside it (clear of its marker: ``radii`` in points) where the label overlaps
    no other label, no box of ``avoid`` (window extents, e.g. the legend) and stays inside the axes:
    right, left, then further above or below (with a leader line), in that order; where nothing is
    free, the place with the least overlap."""
    r = m.renderer
    dpi = ax.figure.dpi
    panel = ax.get_window_extent(r)
    taken = [(b.x0, b.y0, b.x1, b.y1) for b in avoid]
    h = m.line_height(size) / 72 * dpi
    pt = dpi / 72
    order = sorted(range(len(labels)), key=lambda i: (-float(ys[i]), float(xs[i])))
    steps = [3, -3 - h / pt, 3 + h / pt, -3 - 2 * h / pt, 3 + 2 * h / pt, -3 - 3 * h / pt, 3 + 3 * h / pt,
             -3 - 4 * h / pt, 3 + 4 * h / pt]

    def overlap(a, b) -> float:
        w = min(a[2], b[2]) - max(a[0], b[0])
        hh = min(a[3], b[3]) - max(a[1], b[1])
        return w * hh if w > 0 and hh > 0 else 0.0

    for i in order:
        lab = str(labels[i])
        px, py = ax.transData.transform((float(xs[i]), float(ys[i])))
        w = m.width(lab, size=size) * dpi
        best = None
        gap = 4 + (float(radii[i]) if radii is not None else 0.0)
        for dy in steps:
            for side in (1, -1):
                dx = gap * side
                x0 = px + dx * pt if side > 0 else px + dx * pt - w
                box = (x0, py + dy * pt, x0 + w, py + dy * pt + h)
                out = (max(0, panel.x0 + 1 - box[0]) + max(0, box[2] - panel.x1 + 1)
                       + max(0, panel.y0 + 1 - box[1]) + max(0, box[3] - panel.y1 + 1)) * h * 10
                cost = out + sum(overlap(box, t) for t in taken)
                if best is None or cost < best[0]:
                    best = (cost, dx, dy, box, side)
                if cost == 0:
                    break
            if best[0] == 0:
                break
        _, dx, dy, box, side = best
        far = abs(dy) > 3 + h / pt
        ax.annotate(lab, (float(xs[i]), float(ys[i])), xytext=(dx, dy), textcoords="offset points", fontsize=size,
                    color=color, ha="left" if side > 0 else "right", va="bottom", annotation_clip=False,
                    arrowprops=dict(arrowstyle="-", color="#bbbbbb", lw=0.5, shrinkA=0, shrinkB=3) if far else None)
        taken.append((box[0] - 1, box[1] - 1, box[2] + 1, box[3] + 1))


def _from_zero(ax, axis: str) -> None:
    """An axis of values that cannot be negative starts at 0 (a little room below, no tick there)."""
    get, set_, ticks = ((ax.get_xlim, ax.set_xlim, ax.set_xticks) if axis == "x"
                        else (ax.get_ylim, ax.set_ylim, ax.set_yticks))
    lo, hi = get()
    pad = 0.04 * (hi - max(lo, 0.0))
    set_(-pad, hi)
    locs = [t for t in (ax.get_xticks() if axis == "x" else ax.get_yticks()) if -1e-12 <= t <= hi]
    ticks(locs)
    set_(-pad, hi)


def bubble_plot(result, *, footer: str = "") -> Figure:
    """Meta-regression of an analysis on its moderator: one bubble per study (area proportional to
    its weight in the mixed-effects model), the fitted line with its confidence band for a
    numeric moderator, or the fitted value of each category with its CI for a factor."""
    with matplotlib.rc_context(_RC):
        return _bubble(result, footer)


def _bubble(result, footer: str) -> Figure:
    from ..analysis.run import moderator_columns

    spec, reg = result.spec, result.metareg
    sc = display_scale(spec)
    title = f"Meta-regression: {spec.title}"
    if reg is None:
        return _empty(title, spec.id, result.metareg_note or "No meta-regression.", footer)
    cols, complete = moderator_columns(result.studies, spec)
    studies = result.studies[complete]
    yi = studies["yi"].to_numpy(float)
    w = 1.0 / (studies["vi"].to_numpy(float) + reg.tau2)
    size = 40 + 900 * w / w.max()
    moderator = spec.moderators[0]
    numeric = len(spec.moderators) == 1 and moderator in cols
    nat = (lambda v: 100 / (1 + np.exp(-np.asarray(v)))) if sc.percent else (lambda v: np.exp(np.asarray(v)))
    fig_w, fig_h = 8.5, 6.2
    fig = _new_figure(fig_w, fig_h)
    m = _Measure(fig)
    ax = fig.add_axes((0.75 / fig_w, 1.3 / fig_h, (fig_w - 1.0) / fig_w, (fig_h - 2.1) / fig_h))
    if numeric:
        x = studies[moderator].to_numpy(float)
        grid = np.linspace(x.min(), x.max(), 60)
        pred = reg.predict(grid if reg.intercept else grid[:, None])
        ax.fill_between(grid, nat(pred.ci_low), nat(pred.ci_high), color="#e8edf3", lw=0, zorder=0)
        ax.plot(grid, nat(pred.pred), color=INK, lw=1.2, zorder=2)
        ax.set_xlabel(column_word(moderator), fontsize=8)
        xs = x
    else:
        levels = sorted(result.studies.loc[complete, moderator].astype(str).unique())
        pos = {lev: i for i, lev in enumerate(levels)}
        xs = np.array([pos[v] for v in studies[moderator].astype(str)], float)
        rows = np.array([[float(name == f"{moderator}{lev}") for name in reg.names[1:]] for lev in levels])
        pred = reg.predict(rows)
        ax.errorbar(np.arange(len(levels)), nat(pred.pred), yerr=[nat(pred.pred) - nat(pred.ci_low),
                    nat(pred.ci_high) - nat(pred.pred)], fmt="D", color=INK, ms=6, capsize=4, zorder=3)
        ax.set_xticks(np.arange(len(levels)))
        ax.set_xticklabels([_pretty(v) for v in levels], fontsize=8)
        ax.set_xlim(-0.6, len(levels) - 0.4)
        ax.set_xlabel(column_word(moderator), fontsize=8)
    ax.scatter(xs, nat(yi), s=size, facecolor=STUDY_COLOR, alpha=0.45, edgecolor=STUDY_COLOR, zorder=4)
    if not sc.percent:
        ax.set_yscale("log")
        ax.axhline(1.0, color=GREY, lw=0.8, ls=":")
        ax.yaxis.set_major_locator(FixedLocator(_nice_log_ticks(*ax.get_ylim())))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda t, _p: f"{t:g}"))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_ylabel(f"{sc.name}" + (" (log scale)" if not sc.percent else ", %"), fontsize=8)
    ax.tick_params(labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    test = (f"F({reg.qm_df}, {reg.qm_df2}) = {reg.qm:.2f}" if reg.qm_dist == "F"
            else f"QM({reg.qm_df}) = {reg.qm:.2f}")
    r2 = f", R² = {reg.r2:.0f}%" if _finite(reg.r2) else ""
    notes = [f"Test of moderators: {test}, {_fmt_p(reg.qm_p)}; residual heterogeneity QE({reg.qe_df}) = "
             f"{reg.qe:.2f}, {_fmt_p(reg.qe_p)}, tau² = {_fmt_tau2(reg.tau2)}{r2}. Bubble area: weight "
             f"1/(vi + tau²). " + (f"Shaded: {reg.level * 100:g}% CI of the fitted {sc.short}." if numeric else
                                    f"Diamonds: fitted {sc.short} of each category with its {reg.level * 100:g}% CI.")]
    if result.metareg_note:
        notes.append(result.metareg_note)
    _titles(fig, fig_w, fig_h, title, f"{spec.id} · rma(yi, vi, mods = ~ {' + '.join(spec.moderators)}) · "
            f"{method_label(reg.method, reg.test)} · k = {reg.k}", notes, footer, m, ax)
    _label_points(ax, xs, nat(yi), studies["label"].astype(str).tolist(), m, radii=np.sqrt(size) / 2)
    return fig


def baujat_plot(result, infl, *, footer: str = "") -> Figure:
    """Baujat plot (metafor ``baujat()``): x, a study's contribution to the heterogeneity statistic;
    y, its influence on the pooled estimate (``infl``: :func:`livemeta.pooling.influence`). Studies
    that metafor's ``influence()`` flags are drawn filled red."""
    with matplotlib.rc_context(_RC):
        spec = result.spec
        fig_w, fig_h = 8.0, 5.6
        fig = _new_figure(fig_w, fig_h)
        m = _Measure(fig)
        ax = fig.add_axes((0.8 / fig_w, 1.2 / fig_h, (fig_w - 1.1) / fig_w, (fig_h - 2.0) / fig_h))
        x, y = np.asarray(infl.baujat_x, float), np.asarray(infl.baujat_y, float)
        flag = np.asarray(infl.is_infl, bool)
        ax.scatter(x[~flag], y[~flag], s=36, color=STUDY_COLOR, zorder=3, label="trial")
        if flag.any():
            ax.scatter(x[flag], y[flag], s=40, color="#b22222", zorder=3, label="flagged by influence()")
        ax.set_xlabel("Squared Pearson residual: contribution to heterogeneity", fontsize=8)
        ax.set_ylabel("Influence on the pooled estimate", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(color="#eeeeee", lw=0.6)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.margins(x=0.18, y=0.12)  # room for the labels of the outermost trials
        _from_zero(ax, "x")  # both are squares: never below 0
        _from_zero(ax, "y")
        notes = ["x: (yi - estimate)² / (tau² + vi); y: (estimate without the trial - estimate)² / its variance "
                 "(metafor baujat()). Flags: |DFFITS| > 3 sqrt(p/(k-p)), Cook's distance beyond the chi-square median, "
                 "hat > 3p/k or |DFBETAS| > 1 (metafor influence())."]
        _titles(fig, fig_w, fig_h, f"Baujat plot: {spec.title}",
                f"{spec.id} · {method_label(spec.method, spec.test)} · k = {result.k}", notes, footer, m, ax)
        legend = ax.legend(loc="best", fontsize=FS_SMALL, frameon=False) if flag.any() else None
        _label_points(ax, x, y, result.studies["label"].astype(str).tolist(), m,
                      avoid=[legend.get_window_extent(m.renderer)] if legend is not None else [])
        return fig


# ------------------------------------------------------------------ trial sequential analysis
def monitoring_plot(mon, *, title: str, measure: str = "HR", footer: str = "", secondary: bool = True) -> Figure:
    """Trial sequential analysis in the usual layout: the cumulative z curve by information, the
    alpha-spending (and futility) boundaries, the conventional z, and the required information size.

    ``mon`` is a :class:`livemeta.pooling.sequential.Monitoring`."""
    with matplotlib.rc_context(_RC):
        return _monitoring(mon, title, measure, footer, secondary)


def _monitoring(mon, title: str, measure: str, footer: str, secondary: bool) -> Figure:
    from ..pooling._dist import norm_isf

    fig_w, fig_h = 9.0, 6.0
    fig = _new_figure(fig_w, fig_h)
    m = _Measure(fig)
    ax = fig.add_axes((0.8 / fig_w, 1.45 / fig_h, (fig_w - 1.1) / fig_w, (fig_h - 2.25) / fig_h))
    ris = mon.required_information_adjusted
    info = np.asarray(mon.information, float)
    z = np.asarray(mon.z, float)
    d = mon.design
    final = float(d.critical_values[-1])  # planned at the required information
    sign = -1.0 if mon.target < 0 else 1.0
    xmax = max(ris, float(info.max())) * 1.08
    ax.plot(np.r_[0, info], np.r_[0, z], color=STUDY_COLOR, lw=1.6, marker="o", ms=4, zorder=4,
            label="cumulative z")
    # the boundary at the looks tested below the required information, then: the planned final boundary
    # at the required information (no look there yet), the final analysis past it (alpha-preserving), or the
    # planned final boundary from the required information on (the TSA software's convention)
    below = np.asarray(mon.fraction) < 1.0
    xs, cs = list(info[below]), list(np.abs(np.asarray(mon.efficacy_bound, float))[below])
    j = mon.overrun_look
    if j is None:
        xs, cs = xs + [ris], cs + [final]
    elif mon.overrun == "alpha_preserving":
        xs, cs = xs + [float(info[j])], cs + [abs(float(mon.efficacy_bound[j]))]
    else:
        xs, cs = xs + [ris, xmax], cs + [final, final]
    xs, cs = np.array(xs), np.array(cs)
    shown = cs < 8
    kind = "O'Brien-Fleming" if d.type_of_design == "asOF" else "Pocock"
    marks = list(range(int(shown.sum()) - (1 if j is not None and mon.overrun == "final_boundary" else 0)))
    ax.plot(xs[shown], sign * cs[shown], color="#b22222", lw=1.3, marker="s", ms=3, markevery=marks,
            label=f"alpha-spending boundary ({kind} type)")
    if mon.sided == 2:
        ax.plot(xs[shown], -sign * cs[shown], color="#b22222", lw=1.0, ls=(0, (4, 2)), marker="s",
                ms=2.5, markevery=marks, label="harm boundary")
    if d.futility_bounds:
        fb = np.r_[np.abs(np.asarray(mon.futility_bound, float))[below], final]
        ax.plot(np.r_[info[below], ris], sign * fb, color="#2e7d32", lw=1.2, marker="^", ms=3,
                label="futility boundary (beta spending)")
    zc = norm_isf(mon.alpha / mon.sided)
    for v in ([sign * zc, -sign * zc] if mon.sided == 2 else [sign * zc]):
        ax.axhline(v, color=GREY, lw=0.8, ls=":")
    ax.axhline(0, color=INK, lw=0.6)
    ax.axvline(ris, color=INK, lw=1.0, ls="--", label="required information size")
    ax.set_xlim(0, xmax)
    lim = max(4.0, float(np.nanmax(np.abs(z))) + 0.5, float(np.nanmax(np.where(shown, cs, 0))) + 0.5)
    ax.set_ylim(-lim, lim)
    ax.set_xlabel(f"Cumulative information ({mon.information_kind})", fontsize=8)
    below, above = z_sides(measure)
    ax.set_ylabel(f"Cumulative z\nbelow 0: {below} · above 0: {above}", fontsize=8)
    ax.tick_params(labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    target = f"{measure} {math.exp(mon.target):.2f}"
    if j is None:
        rule = "none past the required information yet"
    elif mon.overrun == "alpha_preserving":
        rule = f"alpha-preserving, look {mon.looks[j]} the final analysis"
    else:
        rule = f"final boundary reused from look {mon.looks[j]} (TSA software; {100 * mon.alpha_total:.1f}% spent)"
    notes = [f"Required information {mon.required_information:.1f} for a target {target} (alpha {mon.alpha:g}, "
             f"{'two' if mon.sided == 2 else 'one'}-sided, spent per side as rpact; power {mon.power:g}), heterogeneity "
             f"adjustment {mon.heterogeneity} = {mon.adjustment:.2f}: {ris:.1f}. {mon.conclusion[0].upper()}"
             f"{mon.conclusion[1:]}. Looks past the required information: {rule}. Dotted: conventional z = {zc:.2f}."]
    if secondary:
        notes.append("Sequential monitoring is a secondary analysis: it controls the error of repeated looks at "
                     "an accumulating meta-analysis; the main estimates are those of the forest plots.")
    _titles(fig, fig_w, fig_h, f"Trial sequential analysis: {title}",
            f"Lan-DeMets {d.type_of_design} spending at the cumulative information fractions · z from "
            f"{method_label(mon.model, 'z')}", notes, footer, m, ax)
    legend = ax.legend(loc="best", fontsize=FS_SMALL, frameon=True, framealpha=0.9, edgecolor="#dddddd")
    _label_points(ax, info, z, [str(lab) for lab in mon.looks], m, avoid=[legend.get_window_extent(m.renderer)])
    return fig


# ------------------------------------------------------------------------------------ saving
def save(fig: Figure, path_without_suffix: Path | str) -> tuple[Path, Path]:
    """Write ``<path>.png`` (:data:`PNG_DPI`) and ``<path>.svg``; returns both paths. Creates the folder."""
    base = Path(path_without_suffix)
    base.parent.mkdir(parents=True, exist_ok=True)
    png, svg = base.with_name(base.name + ".png"), base.with_name(base.name + ".svg")
    from .png import write_png

    with matplotlib.rc_context(_RC):
        fig.patch.set_facecolor("white")
        fig.set_dpi(PNG_DPI)
        fig.canvas.draw()
        write_png(png, fig.canvas.buffer_rgba(), PNG_DPI)  # opaque, so RGB: the same pixels
        fig.savefig(svg, format="svg", facecolor="white", metadata={"Date": None, "Creator": None})
    return png, svg
