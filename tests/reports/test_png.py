"""The report's PNG writer (livemeta.reports.png): what Pillow reads back is the canvas, pixel for
pixel, as RGB at the figure's resolution."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from livemeta.reports import plots
from livemeta.reports.png import SIGNATURE, write_png

from .test_plots import os_result


def test_pillow_reads_back_every_pixel_and_the_resolution(tmp_path):
    rng = np.random.default_rng(7)
    rgba = rng.integers(0, 256, size=(37, 53, 4), dtype=np.uint8)  # odd sizes, noise: no run to hide behind
    path = tmp_path / "noise.png"
    write_png(path, rgba, 150)
    assert path.read_bytes().startswith(SIGNATURE)
    with Image.open(path) as im:
        im.load()  # checks every chunk's CRC and the deflate stream
        assert im.mode == "RGB" and im.size == (53, 37)
        assert im.info["dpi"] == pytest.approx((150, 150), abs=0.02)
        np.testing.assert_array_equal(np.asarray(im), rgba[..., :3])


def test_a_saved_figure_is_its_canvas(tmp_path):
    fig = plots.forest_plot(os_result(), footer="revision 4")
    png, _ = plots.save(fig, tmp_path / "forest_os")
    canvas = np.asarray(fig.canvas.buffer_rgba())
    with Image.open(png) as im:
        np.testing.assert_array_equal(np.asarray(im), canvas[..., :3])
    assert (canvas[..., 3] == 255).all()  # opaque: nothing lost with the alpha channel


def test_anything_but_height_by_width_by_four_bytes_is_refused(tmp_path):
    with pytest.raises(ValueError, match="height x width x 4 bytes"):
        write_png(tmp_path / "x.png", np.zeros((4, 4, 3), np.uint8), 150)
    with pytest.raises(ValueError, match="height x width x 4 bytes"):
        write_png(tmp_path / "x.png", np.zeros((4, 4, 4), np.float32), 150)
