"""A density grid as a PNG image in a plotly layout (the static form's heatmap).

plotly.js removes heatmap and contour traces from the plot while it plays frames and
draws them again only at the end (checked in Chromium with plotly.js from plotly 7.1),
so in the static form the density is a layout image, which frames leave alone. The PNG
is written with the standard library (zlib), colours from the notes' density scale.
"""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np


def colorize(z: np.ndarray, colorscale) -> np.ndarray:
    """(h, w) values, scaled to [0, 1] by their range, as (h, w, 3) uint8 RGB on ``colorscale``."""
    z = np.nan_to_num(np.asarray(z, dtype=np.float64), nan=float(np.nanmin(z)))
    lo, hi = float(z.min()), float(z.max())
    u = (z - lo) / (hi - lo) if hi > lo else np.zeros_like(z)
    stops = np.array([s for s, _ in colorscale])
    rgb = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for _, c in colorscale], dtype=float)
    out = np.stack([np.interp(u, stops, rgb[:, k]) for k in range(3)], -1)
    return np.round(out).astype(np.uint8)


def png_bytes(rgb: np.ndarray) -> bytes:
    """(h, w, 3) uint8 as a PNG file (8-bit RGB, no filter)."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[i].tobytes() for i in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def layout_image(x, y, z, colorscale, xref: str = "x", yref: str = "y") -> dict:
    """A plotly layout image of the grid z (rows along y) over grid centres x, y."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    hx, hy = (x[-1] - x[0]) / max(len(x) - 1, 1), (y[-1] - y[0]) / max(len(y) - 1, 1)
    rgb = colorize(np.asarray(z)[::-1], colorscale)  # image rows run top (largest y) down
    uri = "data:image/png;base64," + base64.b64encode(png_bytes(rgb)).decode("ascii")
    return dict(
        source=uri,
        xref=xref,
        yref=yref,
        x=x[0] - hx / 2,
        y=y[-1] + hy / 2,
        sizex=x[-1] - x[0] + hx,
        sizey=y[-1] - y[0] + hy,
        sizing="stretch",
        layer="below",
        xanchor="left",
        yanchor="top",
    )
