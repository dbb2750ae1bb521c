"""Figures of 8x8 digits: rows of small heatmaps (plain plotly, no kernel needed)."""

from __future__ import annotations

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from genmod import digits, plots

#: white paper, dark ink: intensity 0 is white, 16 is black
INK = [[0.0, "#ffffff"], [1.0, "#111111"]]


def grid(rows: dict[str, torch.Tensor], title: str = "", cell: int = 56) -> go.Figure:
    """One row of digits per entry: ``{"real digits": x (k, 64), "samples": y (k, 64)}``.

    Points are shown as images (``digits.to_images``: clamped to the pixel range); every
    row shows its first k points, k the length of the longest row (at most 12).
    """
    if not rows:
        raise ValueError("rows must name at least one set of digits")
    images = {name: digits.to_images(x)[:12] for name, x in rows.items()}
    k = max(len(v) for v in images.values())
    fig = make_subplots(
        rows=len(images),
        cols=k,
        horizontal_spacing=0.01,
        vertical_spacing=0.06,
        row_titles=list(images),
    )
    for r, imgs in enumerate(images.values(), start=1):
        for c, img in enumerate(imgs, start=1):
            fig.add_trace(
                go.Heatmap(
                    z=img.flip(0).numpy(),  # row 0 of the image at the top
                    zmin=0,
                    zmax=digits.LEVELS - 1,
                    colorscale=INK,
                    showscale=False,
                    hoverinfo="skip",
                ),
                row=r,
                col=c,
            )
    fig.update_xaxes(visible=False, scaleanchor="y", constrain="domain")
    fig.update_yaxes(visible=False)
    fig.update_annotations(font_size=11, textangle=0, xanchor="left", x=1.0)
    plots.layout(fig, height=cell * len(images) + 60, width=cell * k + 150, title=title)
    return fig.update_layout(margin=dict(l=10, r=140, t=40, b=10))
