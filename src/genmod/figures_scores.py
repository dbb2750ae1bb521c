"""Figures of notebooks 04 and 05: score fields, learned vs exact scores, mode weights, ladders.

Computing lives in :mod:`genmod.score`; these return ``go.Figure``. The noise-level
explorer and the annealed Langevin animation are in :mod:`genmod.widgets_scores`.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from genmod import plots
from genmod.targets import Target

ERROR_SCALE = [[0.0, "#ffffff"], [0.3, "#fdd0a2"], [0.7, "#f16913"], [1.0, "#7f2704"]]


def score_figure(
    target: Target, score_fn=None, n_arrows: int = 21, title: str | None = None, height=420
) -> go.Figure:
    """Arrows of a score (default ``target.score``) over ``target``'s density.

    Arrows have equal length (direction only): raw scores grow without bound far from data.
    """
    fn = score_fn or target.score
    fig = go.Figure(
        [plots.density_trace(target, 90), plots.vector_field(fn, target.bounds, n_arrows)]
    )
    (x0, x1), (y0, y1) = target.bounds
    fig.update_xaxes(range=[x0, x1])
    fig.update_yaxes(range=[y0, y1], scaleanchor="x")
    return plots.layout(
        fig, height=height, width=height, showlegend=False, title=title or f"{target.name}: score"
    )


def learned_vs_exact(
    learned_fn, exact: Target, bounds=None, n_arrows: int = 19, resolution: int = 80, height=380
) -> go.Figure:
    """Left: exact score over the density. Right: learned score over its relative error.

    The error shading is |s_learned - s_exact| / |s_exact|, clipped at 1: white where the
    learned score is right, dark where it is wrong (typically where data is rare).
    """
    bounds = bounds or exact.bounds

    def rel_err(x):
        ex = exact.score(x)
        return ((learned_fn(x) - ex).norm(dim=1) / ex.norm(dim=1).clamp(min=1e-6)).clamp(max=1)

    fig = make_subplots(
        1,
        2,
        subplot_titles=["exact score of p_sigma", "learned score, relative error shaded"],
        horizontal_spacing=0.08,
    )
    fig.add_trace(plots.density_trace(exact, resolution, bounds=bounds), 1, 1)
    fig.add_trace(plots.vector_field(exact.score, bounds, n_arrows), 1, 1)
    heat = plots.function_heatmap(
        rel_err, bounds, resolution, ERROR_SCALE, "relative error", zmin=0, zmax=1
    )
    heat.colorbar = dict(title="rel. error", len=0.8, thickness=12)
    fig.add_trace(heat, 1, 2)
    fig.add_trace(
        go.Contour(
            **_density_contour(exact, bounds, resolution),
            showscale=False,
            contours=dict(coloring="none", start=-9.2, end=-2.3, size=6.9),
            line=dict(color=plots.COLORS["exact"], width=1, dash="dot"),
            hoverinfo="skip",
            name="p = 10% and 0.01% of max",
        ),
        1,
        2,
    )
    fig.add_trace(plots.vector_field(learned_fn, bounds, n_arrows, color=plots.COLORS["map"]), 1, 2)
    for c in (1, 2):
        fig.update_xaxes(range=list(bounds[0]), row=1, col=c)
        fig.update_yaxes(range=list(bounds[1]), row=1, col=c)
    return plots.layout(fig, height=height, width=2 * height + 60, showlegend=False)


def _density_contour(target: Target, bounds, resolution):
    """log p - max log p on a grid (for contours at fixed fractions of the peak)."""
    xs, ys, z = plots.density_grid(target, resolution, log=True, bounds=bounds)
    return dict(x=xs, y=ys, z=z - z.max())


def weights_figure(rows: list[tuple[str, float]], true_weight: float, height=300) -> go.Figure:
    """Horizontal bars: the estimated weight of one mode per sampler, a line at the truth."""
    names = [r[0] for r in rows]
    vals = np.array([r[1] for r in rows], dtype=np.float32)
    fig = go.Figure(
        go.Bar(
            x=vals,
            y=names,
            orientation="h",
            marker_color=[
                plots.COLORS["map"] if abs(v - true_weight) < 0.05 else plots.COLORS["chain"]
                for v in vals
            ],
            text=[f"{v:.2f}" for v in vals],
            textposition="outside",
        )
    )
    fig.add_vline(x=true_weight, line=dict(color=plots.COLORS["exact"], dash="dash"))
    fig.update_xaxes(range=[0, 1], title="estimated weight of the small mode")
    fig = plots.layout(fig, height=height, title=f"mode weight (true {true_weight:g}, dashed)")
    # the sampler names are long: let the left margin grow to fit them
    return fig.update_yaxes(autorange="reversed", automargin=True)


def ladder_figure(sigmas, step_sizes=None, height: int = 300) -> go.Figure:
    """The sigma ladder on a log axis (and the Langevin step alpha_i of each level)."""
    sig = torch.as_tensor(sigmas)
    i = np.arange(1, len(sig) + 1)
    fig = go.Figure(go.Scatter(x=i, y=plots._np(sig), mode="lines+markers", name="sigma_i"))
    if step_sizes is not None:
        fig.add_trace(
            go.Scatter(x=i, y=plots._np(step_sizes), mode="lines+markers", name="step alpha_i")
        )
    fig.update_yaxes(type="log", title="value")
    fig.update_xaxes(title="level i")
    return plots.layout(fig, height=height, title="geometric ladder")
