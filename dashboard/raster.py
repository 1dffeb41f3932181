"""Heatmaps as images: a weight matrix coloured like Vega's viridis, as a PNG data URL.

Drawing a 50 x 50 heatmap as 2,500 Vega rects costs the browser ~110 ms per update on the
lab's 2-core machine (every item is encoded by Vega's expression interpreter); one image per
panel costs a few. The colours are Vega's: its "viridis" scheme is these 31 colours,
interpolated linearly in RGB, read through the same sqrt scale from 0 to the top value as
the chart's colour legend.
"""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np

# Vega's "viridis" scheme stops (vega-scale's discretised scheme string, 31 colours).
VIRIDIS_HEX = (
    "440154470e61481a6c482575472f7d443a834144873d4e8a39568c35608d31688e2d708e2a788e27818e23888e"
    "21918d1f988b1fa08822a8842ab07f35b77943bf7154c56866cc5d7ad1518fd744a5db36bcdf27d2e21be9e51a"
    "fde725"
)
VIRIDIS = np.array(
    [[int(VIRIDIS_HEX[i + j : i + j + 2], 16) for j in (0, 2, 4)] for i in range(0, 186, 6)],
    dtype=float,
)  # (31, 3)


def viridis(t: np.ndarray) -> np.ndarray:
    """Colours (..., 3) uint8 for positions t in [0, 1] (clipped), as Vega interpolates them.

    >>> viridis(np.array([0.0, 1.0])).tolist()
    [[68, 1, 84], [253, 231, 37]]
    """
    s = np.clip(np.nan_to_num(np.asarray(t, dtype=float)), 0.0, 1.0) * (len(VIRIDIS) - 1)
    i = np.minimum(s.astype(int), len(VIRIDIS) - 2)  # the segment's first stop
    f = (s - i)[..., None]
    return np.round(VIRIDIS[i] * (1 - f) + VIRIDIS[i + 1] * f).astype(np.uint8)


def shade(weights: np.ndarray, top: float) -> np.ndarray:
    """Positions on the colour scale: sqrt scale from 0 to `top` (Vega's type "sqrt")."""
    if top <= 0:
        return np.zeros(np.shape(weights))
    return np.sqrt(np.clip(weights, 0.0, None) / top)


def png_url(rgb: np.ndarray) -> str:
    """A (H, W, 3) uint8 image as a data: URL holding an 8-bit RGB PNG."""
    h, w, _ = rgb.shape
    rows = b"".join(b"\x00" + rgb[r].tobytes() for r in range(h))  # filter 0 per row

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows, 1))
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def heat_url(weights: np.ndarray, top: float) -> str:
    """One heatmap panel (Q', K') as an image, one pixel per cell: row i is query i, column j
    key j. The chart stretches it unsmoothed (the image mark's smooth=False), so each cell is
    a sharp block of its colour at any size."""
    return png_url(viridis(shade(weights, top)))  # (Q', K', 3)
