"""Heatmaps as PNG images in a plotly layout (the static form's densities and fields).

plotly.js removes heatmap and contour traces from the plot while it plays frames and
draws them again only at the end (checked in headless Chromium with the plotly.js of
plotly 7.1, for a heatmap in the frames and out of them), so the static form draws each
heatmap as a layout image, which a frame may replace (an explorer's field) or leave alone. The PNG
is written with the standard library (zlib), colours from the notes' density scale.
"""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np


def colorize(z: np.ndarray, colorscale, zrange=None) -> np.ndarray:
    """(h, w) values as (h, w, 3) uint8 RGB on ``colorscale``, scaled to [0, 1] by ``zrange``
    (lo, hi), default their own range."""
    z = np.asarray(z, dtype=np.float64)
    finite = np.isfinite(z)
    if zrange is not None:
        lo, hi = zrange
    else:  # the range of the finite values; NaN and -inf draw as the low end, +inf the high
        lo, hi = (float(z[finite].min()), float(z[finite].max())) if finite.any() else (0.0, 0.0)
    z = np.where(np.isnan(z) | (z == -np.inf), lo, np.where(z == np.inf, hi, z))
    z = np.clip(z, lo, hi)
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


def layout_image(x, y, z, colorscale, xref: str = "x", yref: str = "y", zrange=None) -> dict:
    """A plotly layout image of the grid z (rows along y) over grid centres x, y."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    hx, hy = (x[-1] - x[0]) / max(len(x) - 1, 1), (y[-1] - y[0]) / max(len(y) - 1, 1)
    rgb = colorize(np.asarray(z)[::-1], colorscale, zrange)  # image rows run top (largest y) down
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


def heatmap_sources(fig) -> dict[int, dict]:
    """The visible heatmaps of a go.Figure whose colour scale is hex: index -> their grid.

    Each value holds x, y, z (numpy), colorscale, zmin, zmax and the axes, for
    :func:`source_image`. A heatmap with another kind of colour scale is left out (it stays
    a trace).
    """
    out = {}
    for i, tr in enumerate(fig.data):
        if tr.type != "heatmap" or tr.visible is False or tr.z is None:
            continue
        scale = [(float(s), str(c)) for s, c in (tr.colorscale or ())]
        if not scale or not all(c.startswith("#") and len(c) == 7 for _, c in scale):
            continue
        z = np.asarray(tr.z, dtype=float)
        out[i] = dict(
            x=np.arange(z.shape[1]) if tr.x is None else np.asarray(tr.x, dtype=float),
            y=np.arange(z.shape[0]) if tr.y is None else np.asarray(tr.y, dtype=float),
            z=z,
            colorscale=scale,
            zmin=tr.zmin,
            zmax=tr.zmax,
            xref=tr.xaxis or "x",
            yref=tr.yaxis or "y",
        )
    return out


def source_image(source: dict, changes: dict) -> dict:
    """The layout image of a heatmap source with a frame's ``changes`` (x, y, z) applied."""
    s = {**source, **{k: np.asarray(v, dtype=float) for k, v in changes.items() if k in "xyz"}}
    fixed = s["zmin"] is not None and s["zmax"] is not None  # plotly's zmin/zmax, else z's range
    zrange = (float(s["zmin"]), float(s["zmax"])) if fixed else None
    return layout_image(s["x"], s["y"], s["z"], s["colorscale"], s["xref"], s["yref"], zrange)
