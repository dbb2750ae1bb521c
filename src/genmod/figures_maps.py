"""Figures of the noise-to-sample maps: a model's density beside the truth, sample sets.

They return ``go.Figure``; the explorers (inverse CDF, GAN replay) are in
:mod:`genmod.widgets_maps`.
"""

from __future__ import annotations

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from genmod import plots
from genmod.targets import Target

#: Red (D says fake) to white to blue (D says real), for the discriminator's field.
FIELD_SCALE = [[0.0, "#f4a582"], [0.5, "#ffffff"], [1.0, "#92c5de"]]


def density_comparison(
    target: Target, log_prob, title: str = "model", resolution: int = 80, height: int = 380
) -> go.Figure:
    """The true density beside a model's exp(log_prob), on the target's bounds, same colours.

    log_prob: maps (m, 2) float32 points to (m,) log densities (a flow's ``log_prob``).
    """
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=("true density", f"{title} density"), horizontal_spacing=0.06
    )
    truth = plots.density_trace(target, resolution)
    fig.add_trace(truth, 1, 1)

    def model_density(x):
        # divide by the true density's peak, as density_trace does: one colour scale for both
        return torch.exp(log_prob(x).double() - float(target.log_prob(x).double().max()))

    fig.add_trace(
        plots.function_heatmap(
            model_density, target.bounds, resolution, showscale=False, zmin=0, zmax=1
        ),
        1,
        2,
    )
    (x0, x1), (y0, y1) = target.bounds
    for c in (1, 2):
        fig.update_xaxes(range=[x0, x1], row=1, col=c)
        fig.update_yaxes(range=[y0, y1], row=1, col=c)
    return plots.layout(fig, height=height, width=2 * height, showlegend=False)


def side_by_side(target: Target, sets: dict, height: int = 360, size: float = 3) -> go.Figure:
    """Panels of sample sets over the target density. sets: {title: ((n, 2) points, colour)}."""
    fig = make_subplots(rows=1, cols=len(sets), subplot_titles=list(sets), horizontal_spacing=0.05)
    (x0, x1), (y0, y1) = target.bounds
    for c, (name, (x, color)) in enumerate(sets.items(), start=1):
        fig.add_trace(plots.density_trace(target, 70), 1, c)
        fig.add_trace(plots.points_trace(x, color=color, name=name, size=size), 1, c)
        fig.update_xaxes(range=[x0, x1], row=1, col=c)
        fig.update_yaxes(range=[y0, y1], row=1, col=c)
    return plots.layout(fig, height=height, width=height * len(sets), showlegend=False)
