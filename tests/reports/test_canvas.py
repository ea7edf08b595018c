"""The report's Agg canvas (livemeta.reports.canvas) draws each text as one bitmap: the figures must
come out as matplotlib's own renderer draws them, to within a pixel or two of text position.

Each figure kind is drawn twice at the PNG resolution, by :class:`~livemeta.reports.canvas.Renderer`
and by matplotlib's ``RendererAgg``, and compared: the same size, the same ink (dark pixels) to
0.5%, and no 16 x 16-pixel block whose mean grey differs by 25 levels or more. The two differ by
10-18 there; the same figure shifted by 2 pixels right and down, by 32-49.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from livemeta.reports import canvas, plots, prisma, rob_plots

from .test_plots import big_result, os_result, prop_result

BLOCK, MAX_BLOCK_DIFF, INK_TOLERANCE = 16, 25.0, 0.005


def _grey(fig, canvas_class) -> np.ndarray:
    """``fig`` drawn at the PNG resolution on a canvas of ``canvas_class``, as grey levels."""
    with matplotlib.rc_context(plots._RC):
        c = canvas_class(fig)
        fig.set_dpi(plots.PNG_DPI)
        c.draw()
        rgba = np.asarray(c.buffer_rgba(), dtype=float)
    return rgba[..., :3].mean(axis=2)


def _blocks(img: np.ndarray) -> np.ndarray:
    h, w = (img.shape[0] // BLOCK) * BLOCK, (img.shape[1] // BLOCK) * BLOCK
    return img[:h, :w].reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK).mean(axis=(1, 3))


def _compare(ours: np.ndarray, theirs: np.ndarray) -> tuple[float, float]:
    """(ink ratio, largest block difference)."""
    assert ours.shape == theirs.shape
    ink = (255 - ours).sum() / (255 - theirs).sum()
    return ink, float(np.abs(_blocks(ours) - _blocks(theirs)).max())


def _rob_frame() -> pd.DataFrame:
    judgements = ["low", "some_concerns", "high", "no_information"]
    rows = []
    for i in range(5):
        row = {"study": f"FICTIONAL-{i + 1}"}
        for d in range(1, 6):
            row[f"d{d}_judgement"] = judgements[(i + d) % 4]
        row["overall_judgement"] = judgements[i % 3]
        rows.append(row)
    return pd.DataFrame(rows)


FIGURES = {
    "forest": lambda: plots.forest_plot(os_result(), footer="revision 4"),
    "forest, random effects, long labels": lambda: plots.forest_plot(big_result(), footer="revision 4"),
    "forest, proportions by subgroup": lambda: plots.forest_plot(prop_result(), footer="revision 4"),
    "funnel": lambda: plots.funnel_plot(big_result(), footer="revision 4"),
    "cumulative": lambda: plots.cumulative_plot(
        [{"trial": f"T-{i}", "year": 2018 + i, "estimate": 0.8 + 0.02 * i, "ci_low": 0.6, "ci_high": 1.1}
         for i in range(6)], title="Cumulative OS", measure="HR", footer=""),
    "traffic light": lambda: rob_plots.traffic_light(_rob_frame(), tool="rob2", title="RoB 2: OS"),
    "PRISMA flow (rotated text)": lambda: prisma.flow_figure(
        [prisma.FlowCounts("review-1", 3, "2026-01-01", False, {"identified": 120, "screened": 100}, 10, 22, None,
                           10, 22, [("FICTIONAL-9", "wrong population")], 1, 0)], title="PRISMA 2020 flow"),
}


@pytest.mark.parametrize("kind", list(FIGURES))
def test_text_drawn_a_string_at_a_time_lands_where_matplotlib_draws_it(kind):
    assert canvas.STRING_AT_A_TIME  # this matplotlib has the calls: the fast drawing is what is tested
    ours = _grey(FIGURES[kind](), canvas.Canvas)
    theirs = _grey(FIGURES[kind](), FigureCanvasAgg)
    ink, worst = _compare(ours, theirs)
    assert abs(ink - 1) < INK_TOLERANCE, (kind, ink)
    assert worst < MAX_BLOCK_DIFF, (kind, worst)
    _, worst_shifted = _compare(np.roll(ours, (2, 2), axis=(0, 1)), theirs)
    assert worst_shifted >= MAX_BLOCK_DIFF, (kind, worst_shifted)  # the comparison sees a 2-pixel shift


def test_report_figures_are_made_on_this_canvas_and_matplotlib_is_left_alone():
    fig = plots.forest_plot(os_result(), footer="revision 4")
    assert isinstance(fig.canvas, canvas.Canvas)
    assert isinstance(fig.canvas.get_renderer(), canvas.Renderer)
    other = matplotlib.figure.Figure()
    assert type(FigureCanvasAgg(other).get_renderer()) is matplotlib.backends.backend_agg.RendererAgg


def _one_text(s: str):
    fig = matplotlib.figure.Figure(figsize=(2, 1), dpi=100)
    fig.text(0.1, 0.5, s)
    return fig


def test_mathtext_and_a_matplotlib_without_the_calls_draw_as_matplotlib_does(monkeypatch):
    math_text = _one_text(r"$\alpha^2$ and text")
    np.testing.assert_array_equal(_grey(math_text, canvas.Canvas), _grey(math_text, FigureCanvasAgg))
    plain = _one_text("Hazard ratio 0.91")
    assert np.any(_grey(plain, canvas.Canvas) != _grey(plain, FigureCanvasAgg))  # drawn a string at a time
    monkeypatch.setattr(canvas, "STRING_AT_A_TIME", False)
    np.testing.assert_array_equal(_grey(plain, canvas.Canvas), _grey(plain, FigureCanvasAgg))
