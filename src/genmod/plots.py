"""Plotly figures: densities with samples, the target gallery, traces. One colour scheme.

Functions return a ``go.Figure`` and never call ``.show()``. Arrays go in as
float32 numpy (plotly stores them as compact base64 in the notebook).
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from genmod.arrays import as_points, check_n, grid
from genmod.densities import Target, require_2d
from genmod.guards import grid_log_density

#: The one colour scheme of the notes.
COLORS = {
    "exact": "#3d3d3d",  # exact iid samples from the target
    "chain": "#d95f02",  # the statistician's way: MCMC chains
    "map": "#1b9e77",  # the ML way: noise-to-sample maps
    "accepted": "#2ca02c",
    "rejected": "#d62728",
    "score": "#7570b3",  # score vectors
    "proposal": "#e7298a",
    "noise": "#9e9e9e",
}
#: White to deep blue: the target density in every panel.
DENSITY_SCALE = [[0.0, "#ffffff"], [0.15, "#deebf7"], [0.5, "#6baed6"], [1.0, "#08306b"]]
FONT = dict(family="Helvetica, Arial, sans-serif", size=12)


def _np(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float32)


def text_width(text: str, size: float = 12.0) -> float:
    """About how many pixels ``text`` takes in Helvetica/Arial at ``size`` px (widths of
    Arial's glyphs, rounded; a little wide rather than narrow)."""
    narrow, wide = set("fijlrt()[] .,:;'|!"), set("mwMW")
    em = sum(
        0.3 if c in narrow else 0.9 if c in wide else 0.7 if c.isupper() else 0.58 for c in text
    )
    return em * size + 4


def layout(fig: go.Figure, height: int = 420, width: int | None = None, **kw) -> go.Figure:
    """Apply the notes' light layout (no template: keeps stored figures small)."""
    fig.update_layout(
        template="none",
        height=height,
        width=width,
        font=FONT,
        margin=dict(l=40, r=20, t=50, b=40),
        plot_bgcolor="white",
        legend=dict(orientation="h", y=-0.08),
        **kw,
    )
    fig.update_xaxes(showgrid=False, zeroline=False, ticks="outside")
    fig.update_yaxes(showgrid=False, zeroline=False, ticks="outside")
    return fig


def density_grid(target: Target, resolution: int = 100, log: bool = False, bounds=None):
    """Target density on a grid over its bounds: (xs, ys, z) with z of shape (res, res).

    ``z`` is p / max p (or log p, clipped 12 nats below its max, with ``log=True``).
    NaN is drawn as zero density and -inf stays zero (never a finite log density); a density
    that is +inf somewhere, or zero everywhere on the grid, is a ValueError.
    """
    require_2d(target, "a density heatmap")
    resolution = check_n(resolution, "resolution")
    xs, ys, pts, _ = grid(bounds or target.bounds, resolution)
    with torch.no_grad():
        lp = target.log_prob(pts).double().reshape(resolution, resolution)
    lp = grid_log_density(lp, f"cannot draw {target.name!r}")
    top = float(lp[torch.isfinite(lp)].max())
    z = lp.clamp(min=top - 12) if log else torch.exp(lp - top)
    return _np(xs), _np(ys), _np(z)


def density_trace(
    target: Target, resolution: int = 100, log: bool = False, showscale=False, bounds=None
) -> go.Heatmap:
    """A heatmap trace of the target density in the notes' colour scale."""
    xs, ys, z = density_grid(target, resolution, log, bounds)
    return go.Heatmap(
        x=xs,
        y=ys,
        z=z,
        colorscale=DENSITY_SCALE,
        showscale=showscale,
        hoverinfo="skip",
        name="density",
    )


def points_trace(
    x,
    color: str = COLORS["exact"],
    name: str = "samples",
    size: float = 3,
    opacity: float = 0.6,
    gl: bool = False,
) -> go.Scatter:
    """A scatter trace of (n, 2) points (``gl=True``: WebGL, for thousands of moving points)."""
    x = _np(as_points(x))
    cls = go.Scattergl if gl else go.Scatter
    return cls(
        x=x[:, 0],
        y=x[:, 1],
        mode="markers",
        name=name,
        marker=dict(size=size, color=color, opacity=opacity),
    )


def _square_axes(fig, bounds, row=None, col=None):
    (x0, x1), (y0, y1) = bounds
    fig.update_xaxes(range=[x0, x1], constrain="domain", row=row, col=col)
    fig.update_yaxes(range=[y0, y1], scaleanchor=None, row=row, col=col)


def density_figure(
    target: Target,
    samples=None,
    title: str | None = None,
    resolution: int = 100,
    log: bool = False,
    color: str = COLORS["exact"],
    name: str = "samples",
    height: int = 440,
) -> go.Figure:
    """The target density as a heatmap, with optional samples overlaid.

    Parameters
    ----------
    target: any Target (built-in or ``from_log_prob``).
    samples: optional (n, 2) points to overlay.
    log: shade log p instead of p (useful for the funnel).
    """
    fig = go.Figure(density_trace(target, resolution, log))
    if samples is not None:
        fig.add_trace(points_trace(samples, color=color, name=name))
    (x0, x1), (y0, y1) = target.bounds
    fig.update_xaxes(range=[x0, x1])
    fig.update_yaxes(range=[y0, y1], scaleanchor="x", scaleratio=1)
    return layout(
        fig,
        height=height,
        width=height + 20,
        title=title or f"{target.name}: density" + (" and samples" if samples is not None else ""),
    )


def gallery(
    targets: list[Target], n_samples: int = 300, seed: int = 0, cols: int = 4, resolution: int = 60
) -> go.Figure:
    """Every target's density with ``n_samples`` exact draws, in a grid of panels."""
    rows = math.ceil(len(targets) / cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[t.name for t in targets],
        horizontal_spacing=0.03,
        vertical_spacing=0.08,
    )
    for i, t in enumerate(targets):
        r, c = i // cols + 1, i % cols + 1
        fig.add_trace(density_trace(t, resolution), row=r, col=c)
        if n_samples:
            fig.add_trace(
                points_trace(t.sample(n_samples, seed=seed), size=2, opacity=0.5, name=t.name),
                row=r,
                col=c,
            )
        (x0, x1), (y0, y1) = t.bounds
        fig.update_xaxes(range=[x0, x1], showticklabels=False, row=r, col=c)
        fig.update_yaxes(range=[y0, y1], showticklabels=False, row=r, col=c)
    layout(
        fig,
        height=230 * rows,
        showlegend=False,
        title="The targets: density (blue) and exact samples (grey)",
    )
    fig.update_annotations(font_size=12)
    return fig


def trace_plot(values, labels=None, title: str = "trace", ylabel: str = "x") -> go.Figure:
    """Line traces of scalar chains. values: (n_steps, n_chains) array or tensor."""
    v = _np(values)
    if v.ndim == 1:
        v = v[:, None]
    fig = go.Figure()
    for j in range(v.shape[1]):
        fig.add_trace(
            go.Scatter(
                y=v[:, j],
                mode="lines",
                line=dict(width=1),
                name=labels[j] if labels else f"chain {j}",
            )
        )
    fig.update_xaxes(title="step")
    fig.update_yaxes(title=ylabel)
    return layout(fig, height=300, title=title)


def function_heatmap(
    fn,
    bounds,
    resolution: int = 100,
    colorscale=DENSITY_SCALE,
    name: str = "",
    showscale: bool = True,
    zmin=None,
    zmax=None,
) -> go.Heatmap:
    """Heatmap trace of any scalar function on a grid: a model's log density, a discriminator.

    fn: maps an (m, 2) float32 tensor to (m,) values (called under ``torch.no_grad``).
    """
    xs, ys, pts, _ = grid(bounds, resolution, dtype=torch.float32)
    with torch.no_grad():
        z = torch.as_tensor(fn(pts)).reshape(resolution, resolution)
    return go.Heatmap(
        x=_np(xs),
        y=_np(ys),
        z=_np(z),
        colorscale=colorscale,
        name=name,
        showscale=showscale,
        zmin=zmin,
        zmax=zmax,
        hoverinfo="skip",
    )


def vector_field(
    fn,
    bounds,
    n: int = 21,
    length: float | None = None,
    color: str = COLORS["score"],
    name: str = "score",
    normalize: bool = True,
    width: float = 1.2,
) -> go.Scatter:
    """Arrows of a vector field (a score, a velocity) on an n x n grid, as one line trace.

    fn: maps an (m, 2) float32 tensor to (m, 2) vectors. With ``normalize`` every arrow
    has the same length (direction only; the magnitude is in the hover text), which keeps
    low-density regions readable where raw scores are huge.
    """
    xs, ys, pts, _ = grid(bounds, n, dtype=torch.float32)
    with torch.no_grad():
        v = torch.as_tensor(fn(pts)).float()
    mag = v.norm(dim=1, keepdim=True)
    (x0, x1), _ = bounds
    length = length or 0.8 * (x1 - x0) / n
    d = v / mag.clamp(min=1e-12) * length if normalize else v * length
    tip = pts + d
    # an arrow = shaft + two head strokes, separated by None breaks
    ang = torch.atan2(d[:, 1], d[:, 0])
    head = 0.35 * length
    segs = []
    for a in (ang + 2.6, ang - 2.6):
        segs.append(tip + head * torch.stack([torch.cos(a), torch.sin(a)], 1))
    nan = torch.full_like(pts[:, :1], float("nan")).expand(-1, 2)
    path = torch.stack([pts, tip, segs[0], tip, segs[1], nan], 1).reshape(-1, 2)
    return go.Scatter(
        x=_np(path[:, 0]),
        y=_np(path[:, 1]),
        mode="lines",
        name=name,
        line=dict(color=color, width=width),
        hoverinfo="skip",
        connectgaps=False,
    )
