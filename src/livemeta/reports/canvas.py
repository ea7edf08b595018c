"""The Agg canvas every report figure is drawn on: matplotlib's, with text drawn a string at a time.

matplotlib 3.11 draws text glyph by glyph, each placed, rendered and copied from Python; a report
figure has a few hundred strings of about twenty glyphs, and that loop was a third of the time a
PNG took. :class:`Canvas` draws each string as FreeType lays it out, into one bitmap copied once:
matplotlib 3.10's way, with the same font, size, hinting and layout (the one
``get_text_width_height_descent`` measures), glyphs placed within a pixel of 3.11's (two for rotated
text).
``tests/reports/test_canvas.py`` holds the two drawings of the report's figures to that.

Everything else is matplotlib's: mathtext, and a matplotlib whose FreeType wrapper lacks these calls,
draw as matplotlib draws. Only figures made by :func:`canvas_for` use it; matplotlib's global state and
the figures of a program that imports livemeta are left alone.
"""

from __future__ import annotations

import math

from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font

#: whether this matplotlib has what drawing a string at a time needs
STRING_AT_A_TIME = hasattr(RendererAgg, "_prepare_font") and all(
    hasattr(FT2Font, name) for name in ("set_text", "draw_glyphs_to_bitmap", "get_bitmap_offset", "get_descent"))


class Renderer(RendererAgg):
    """matplotlib's Agg renderer, drawing a text as one bitmap."""

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if ismath or not STRING_AT_A_TIME:
            return super().draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
        font = self._prepare_font(prop)
        # angle 0 here: draw_text_image rotates the bitmap
        font.set_text(s, 0, flags=get_hinting_flag())
        font.draw_glyphs_to_bitmap(antialiased=gc.get_antialiased())
        descent = font.get_descent() / 64.0  # moved along the angle
        xo, yo = (v / 64.0 for v in font.get_bitmap_offset())
        x = round(x + xo + descent * math.sin(math.radians(angle)))
        y = round(y + yo + descent * math.cos(math.radians(angle)))
        self._renderer.draw_text_image(font, x, y + 1, angle, gc)


class Canvas(FigureCanvasAgg):
    """An Agg canvas whose renderer is :class:`Renderer` (made again when the size or dpi change)."""

    def get_renderer(self):
        w, h = self.get_width_height(physical=True)
        key = (w, h, self.figure.dpi)
        if getattr(self, "_livemeta_key", None) != key or not isinstance(getattr(self, "renderer", None), Renderer):
            self.renderer = Renderer(w, h, self.figure.dpi)
            self._livemeta_key = key
        return self.renderer


def canvas_for(fig: Figure) -> Canvas:
    """Attach a :class:`Canvas` to ``fig`` (as ``fig.canvas``)."""
    return Canvas(fig)
