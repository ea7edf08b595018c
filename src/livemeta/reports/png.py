"""PNG files of the report's figures, written straight from the canvas buffer.

An 8-bit RGB PNG (the figures are opaque) with its resolution (a pHYs chunk), the rows unfiltered
(filter type 0) and deflated at zlib level 3. A figure is flat colour and antialiased text: unfiltered
rows compress smaller than Pillow's adaptive filters (141 KB against 156 KB for the bundled OS forest
plot), in less than half its time (about 10 ms against 20 ms a figure). Any PNG reader reads them;
``tests/reports/test_png.py`` reads them back with Pillow, pixel for pixel.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
ZLIB_LEVEL = 3


def write_png(path: Path | str, rgba, dpi: float) -> None:
    """Write ``rgba`` (height x width x 4 bytes, such as ``canvas.buffer_rgba()``; the alpha channel
    is dropped) to ``path`` as an RGB PNG of ``dpi`` dots per inch."""
    pixels = np.asarray(rgba)
    if pixels.ndim != 3 or pixels.shape[2] != 4 or pixels.dtype != np.uint8:
        raise ValueError(f"expected height x width x 4 bytes, got {pixels.shape} {pixels.dtype}")
    h, w = pixels.shape[:2]
    rows = np.empty((h, 1 + 3 * w), np.uint8)
    rows[:, 0] = 0  # filter type 0 (none) on every row
    rows[:, 1:].reshape(h, w, 3)[...] = pixels[..., :3]
    per_metre = round(dpi / 0.0254)
    with open(path, "wb") as f:
        f.write(SIGNATURE)
        f.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))  # 8-bit RGB, not interlaced
        f.write(_chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)))  # unit: the metre
        f.write(_chunk(b"IDAT", zlib.compress(memoryview(rows), ZLIB_LEVEL)))
        f.write(_chunk(b"IEND", b""))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))
