"""Risk-of-bias figures as robvis draws them (McGuinness & Higgins 2021): the traffic-light plot (one
row per study, one circle per domain and the overall judgement) and the summary plot (per domain,
the share of studies, or of the analysis's weight, at each judgement).

Pure functions: a frame of judgements in, a :class:`matplotlib.figure.Figure` out; the layout is
computed in inches from measured text, as for the forest plots, so that nothing overlaps.
"""

from __future__ import annotations

import matplotlib
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .plots import FS, FS_SMALL, FS_TITLE, GREY, INK, MARGIN_IN, _RC, _Measure, _new_figure

#: robvis's Cochrane colours and symbols per judgement
COLOURS = {"low": "#02C100", "some_concerns": "#E2DF07", "moderate": "#E2DF07", "high": "#BF0000",
           "serious": "#BF0000", "critical": "#820000", "no_information": "#4EA1F7"}
SYMBOLS = {"low": "+", "some_concerns": "–", "moderate": "–", "high": "×", "serious": "×", "critical": "!",
           "no_information": "?"}
WORDS = {"low": "Low", "some_concerns": "Some concerns", "moderate": "Moderate", "high": "High", "serious": "Serious",
         "critical": "Critical", "no_information": "No information"}
SCALES = {"rob2": ("low", "some_concerns", "high", "no_information"),
          "robins_i": ("low", "moderate", "serious", "critical", "no_information")}
DOMAIN_NAMES = {
    "rob2": ["Bias arising from the randomisation process", "Bias due to deviations from intended interventions",
             "Bias due to missing outcome data", "Bias in measurement of the outcome",
             "Bias in selection of the reported result"],
    "robins_i": ["Bias due to confounding", "Bias in selection of participants into the study",
                 "Bias in classification of interventions", "Bias due to deviations from intended interventions",
                 "Bias due to missing data", "Bias in measurement of outcomes", "Bias in selection of the reported result"],
}
TOOL_NAMES = {"rob2": "RoB 2", "robins_i": "ROBINS-I"}


def _domains(tool: str) -> list[str]:
    return [f"d{i}_judgement" for i in range(1, len(DOMAIN_NAMES[tool]) + 1)] + ["overall_judgement"]


def _text(fig, x, y, s, fr, **kw):
    kw.setdefault("fontsize", FS)
    kw.setdefault("color", INK)
    return fig.text(x / fr[0], y / fr[1], s, parse_math=False, **kw)


def traffic_light(frame: pd.DataFrame, *, tool: str, title: str, footer: str = "") -> Figure:
    """robvis's ``rob_traffic_light``: ``frame`` has ``study`` and ``d1_judgement`` ...
    ``overall_judgement`` (one row per study, in order)."""
    with matplotlib.rc_context(_RC):
        return _traffic_light(frame, tool, title, footer)


def _traffic_light(frame: pd.DataFrame, tool: str, title: str, footer: str) -> Figure:
    fig = _new_figure()
    m = _Measure(fig)
    cols = _domains(tool)
    heads = [f"D{i}" for i in range(1, len(cols))] + ["Overall"]
    studies = [str(s) for s in frame["study"]]
    label_w = min(max([m.width(s) for s in studies] + [m.width("Study", weight="bold")]) + 0.1, 3.2)
    labels = [m.ellipsize(s, label_w - 0.1) for s in studies]
    cell_w, row_h = 0.5, 0.34
    grid_x0 = MARGIN_IN + label_w + 0.15
    grid_w = cell_w * len(cols)
    legend = [f"D{i}: {name}" for i, name in enumerate(DOMAIN_NAMES[tool], 1)]
    scale = SCALES[tool]
    judgement_line = "   ".join(f"{SYMBOLS[j]} {WORDS[j]}" for j in scale)
    fig_w = max(grid_x0 + grid_w + MARGIN_IN, 5.0, MARGIN_IN * 2 + max(m.width(t, size=FS_SMALL) for t in legend) + 0.1,
                MARGIN_IN * 2 + m.width(f"Judgement ({TOOL_NAMES[tool]}):  {judgement_line}", size=FS_SMALL) + 0.1)
    title_lines = m.wrap(title, fig_w - 2 * MARGIN_IN, 2, size=FS_TITLE, weight="bold")
    footer_lines = m.wrap(footer, fig_w - 2 * MARGIN_IN, 2, size=FS_SMALL - 0.5) if footer else []
    top = 0.15 + len(title_lines) * FS_TITLE * 1.3 / 72 + 0.15
    head_h = 0.35
    rows_h = row_h * len(studies)
    legend_h = (len(legend) + 2) * FS_SMALL * 1.35 / 72 + 0.25
    footer_h = 0.1 + len(footer_lines) * (FS_SMALL - 0.5) * 1.3 / 72
    fig_h = top + head_h + rows_h + legend_h + footer_h
    fig.set_size_inches(fig_w, fig_h)
    fr = (fig_w, fig_h)
    y = fig_h - 0.15
    _text(fig, MARGIN_IN, y, "\n".join(title_lines), fr, fontsize=FS_TITLE, fontweight="bold", va="top",
          linespacing=1.15)
    y_head = fig_h - top - head_h / 2
    _text(fig, MARGIN_IN, y_head, "Study", fr, fontweight="bold", va="center")
    for j, h in enumerate(heads):
        _text(fig, grid_x0 + cell_w * (j + 0.5), y_head, h, fr, fontweight="bold", ha="center", va="center")
    # the grid: an axes whose data units are inches, so circles stay round
    ax = fig.add_axes((grid_x0 / fig_w, (fig_h - top - head_h - rows_h) / fig_h, grid_w / fig_w, rows_h / fig_h))
    ax.set_xlim(0, grid_w)
    ax.set_ylim(rows_h, 0)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.axis("off")
    ax.add_patch(Rectangle((cell_w * (len(cols) - 1), 0), cell_w, rows_h, facecolor="#eef1f4", edgecolor="none",
                           zorder=0))
    radius = 0.13
    cells: dict[str, list[tuple[float, float]]] = {}
    for i, (label, rec) in enumerate(zip(labels, frame.to_dict("records"))):
        yc = row_h * (i + 0.5)
        _text(fig, MARGIN_IN, fig_h - top - head_h - yc, label, fr, va="center")
        for j, c in enumerate(cols):
            j_ = rec.get(c)
            if j_ is not None and j_ == j_:
                cells.setdefault(j_, []).append((cell_w * (j + 0.5), yc))
    _draw_judgements(ax, cells, radius)
    y = fig_h - top - head_h - rows_h - 0.2
    _text(fig, MARGIN_IN, y, "\n".join(legend), fr, fontsize=FS_SMALL, va="top", linespacing=1.35)
    y -= len(legend) * FS_SMALL * 1.35 / 72 + 0.08
    _text(fig, MARGIN_IN, y, f"Judgement ({TOOL_NAMES[tool]}):  {judgement_line}", fr, fontsize=FS_SMALL, va="top")
    if footer_lines:
        _text(fig, MARGIN_IN, 0.08, "\n".join(footer_lines), fr, fontsize=FS_SMALL - 0.5, color=GREY, va="bottom")
    return fig


#: the symbol drawn in each judgement's circle: a marker (cheap, for many rows), or text
_MARKERS = {"+": ("+", 7.0), "×": ("x", 5.5), "–": ("_", 7.0)}


def _draw_judgements(ax, cells: dict[str, list[tuple[float, float]]], radius: float) -> None:
    """robvis's circles, one collection per judgement, each with its symbol (in inches: the axes'
    data units are inches, so a circle's diameter in points is 2 * radius * 72)."""
    size = (2 * radius * 72) ** 2
    for j, points in cells.items():
        xs, ys = zip(*points)
        ax.scatter(xs, ys, s=size, c=COLOURS[j], edgecolors=INK, linewidths=0.5, zorder=2)
        symbol = SYMBOLS[j]
        colour = "#1a1a1a" if j in ("some_concerns", "moderate") else "white"
        if symbol in _MARKERS:
            marker, ms = _MARKERS[symbol]
            ax.plot(xs, ys, ls="none", marker=marker, ms=ms, mew=1.6, color=colour, zorder=3)
        else:
            for x, y in points:
                ax.text(x, y, symbol, ha="center", va="center_baseline", fontweight="bold", fontsize=FS + 1,
                        color=colour, zorder=3, parse_math=False)


def summary_plot(frame: pd.DataFrame, *, tool: str, title: str, weights: pd.Series | None = None,
                 footer: str = "") -> Figure:
    """robvis's ``rob_summary``: per domain, the share of studies at each judgement; with
    ``weights`` (by study, e.g. the analysis's weights in percent) the share of the weight."""
    with matplotlib.rc_context(_RC):
        return _summary(frame, tool, title, weights, footer)


def shares(frame: pd.DataFrame, tool: str, weights: pd.Series | None = None) -> pd.DataFrame:
    """Percent of studies (or of weight) at each judgement, one row per domain (D1.., Overall)."""
    cols = _domains(tool)
    w = pd.Series(1.0, index=frame.index) if weights is None else frame["study"].map(weights).astype(float).fillna(0.0)
    out = {}
    for c in cols:
        totals = w.groupby(frame[c]).sum()
        total = float(totals.sum())
        out[c] = {j: (100.0 * float(totals.get(j, 0.0)) / total if total else 0.0) for j in SCALES[tool]}
    return pd.DataFrame(out).T[list(SCALES[tool])]


def _summary(frame: pd.DataFrame, tool: str, title: str, weights, footer: str) -> Figure:
    fig = _new_figure()
    m = _Measure(fig)
    names = DOMAIN_NAMES[tool] + ["Overall risk of bias"]
    label_w = max(m.width(n) for n in names) + 0.15
    bar_w, row_h = 4.2, 0.36
    fig_w = MARGIN_IN * 2 + label_w + bar_w + 0.2
    title_lines = m.wrap(title, fig_w - 2 * MARGIN_IN, 2, size=FS_TITLE, weight="bold")
    footer_lines = m.wrap(footer, fig_w - 2 * MARGIN_IN, 2, size=FS_SMALL - 0.5) if footer else []
    scale = SCALES[tool]
    legend_items = [WORDS[j] for j in scale]
    top = 0.15 + len(title_lines) * FS_TITLE * 1.3 / 72 + 0.2
    axis_h, legend_h = 0.45, 0.35
    footer_h = 0.1 + len(footer_lines) * (FS_SMALL - 0.5) * 1.3 / 72
    rows_h = row_h * len(names)
    fig_h = top + rows_h + axis_h + legend_h + footer_h
    fig.set_size_inches(fig_w, fig_h)
    fr = (fig_w, fig_h)
    _text(fig, MARGIN_IN, fig_h - 0.15, "\n".join(title_lines), fr, fontsize=FS_TITLE, fontweight="bold", va="top",
          linespacing=1.15)
    x0 = MARGIN_IN + label_w + 0.1
    ax = fig.add_axes((x0 / fig_w, (footer_h + legend_h + axis_h) / fig_h, bar_w / fig_w, rows_h / fig_h))
    data = shares(frame, tool, weights)
    for i, (name, (_, row)) in enumerate(zip(names, data.iterrows())):
        left = 0.0
        for j in scale:
            v = float(row[j])
            if v > 0:
                ax.barh(i, v, left=left, height=0.7, color=COLOURS[j], edgecolor=INK, lw=0.5)
                if v >= 8:
                    ax.text(left + v / 2, i, f"{v:.0f}%", ha="center", va="center", fontsize=FS_SMALL,
                            color="#1a1a1a" if j in ("some_concerns", "moderate") else "white", parse_math=False)
            left += v
        _text(fig, MARGIN_IN, fig_h - top - row_h * (i + 0.5), name, fr, va="center",
              fontweight="bold" if i == len(names) - 1 else "normal")
    ax.set_xlim(0, 100)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.set_yticks([])
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xticklabels([f"{t}%" for t in (0, 25, 50, 75, 100)], fontsize=8)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    n = len(frame)
    what = "of the analysis's weight" if weights is not None else f"of {n} stud{'y' if n == 1 else 'ies'}"
    ax.set_xlabel(f"Share {what}", fontsize=8)
    handles = [Rectangle((0, 0), 1, 1, facecolor=COLOURS[j], edgecolor=INK, lw=0.5) for j in scale]
    fig.legend(handles, legend_items, loc="lower center", ncol=len(scale), frameon=False, fontsize=FS_SMALL,
               bbox_to_anchor=(0.5, (footer_h + 0.02) / fig_h), handlelength=1.2, columnspacing=1.2)
    if footer_lines:
        _text(fig, MARGIN_IN, 0.08, "\n".join(footer_lines), fr, fontsize=FS_SMALL - 0.5, color=GREY, va="bottom")
    return fig


__all__ = ["COLOURS", "SYMBOLS", "shares", "summary_plot", "traffic_light"]
