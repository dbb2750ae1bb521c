"""The classifier-guidance explorer of notebook 07.

The figures and the sampler table of notebooks 06 and 07 are in :mod:`genmod.figures_sde`,
re-exported here under their old names.
"""

from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from genmod import control, plots, sde
from genmod.explorer import explorer
from genmod.figures_sde import (  # noqa: F401 (figures re-exported: the notebooks' names)
    format_table,
    inpainting_figure,
    likelihood_heatmaps,
    sampler_table,
    samples_figure,
)
from genmod.scene import Patch, f32
from genmod.targets import GaussianMixture


def guidance_explorer(
    target: GaussianMixture, an_sde, n: int = 500, n_steps: int = 40, height: int = 400
) -> W.VBox:
    """Pick a mode label and a guidance strength; PF-ODE samples from the same noise redraw.

    The readout gives the fraction of samples whose most likely component is the label.
    Static form: label 0 at strengths 0, 1, 2, 3, 5.
    """
    k = len(target.weights)
    label = W.Dropdown(options=list(range(k)), value=0, description="label")
    strength = W.FloatSlider(
        value=1.0, min=0.0, max=5.0, step=0.5, description="strength", continuous_update=False
    )
    fig = go.Figure(
        data=[
            plots.density_trace(target, resolution=70),
            plots.points_trace(np.zeros((1, 2)), color=plots.COLORS["map"], gl=True),
        ]
    )
    (x0, x1), (y0, y1) = target.bounds
    fig.update_xaxes(range=[x0, x1])
    fig.update_yaxes(range=[y0, y1], scaleanchor="x")
    plots.layout(fig, height=height, width=height, showlegend=False)

    def draw(v) -> Patch:
        score = control.guided_score(target, an_sde, v["label"], v["strength"])
        x = sde.sample(score, an_sde, n, method="ode", n_steps=n_steps, seed=0).final()
        hit = float((target.responsibilities(x).argmax(1) == v["label"]).float().mean())
        readout = f"samples in mode {v['label']}: <b>{hit:.0%}</b> (unguided: {1 / k:.0%})"
        return Patch({1: {"x": f32(x[:, 0]), "y": f32(x[:, 1])}}, readout=readout)

    settings = [(f"{g:g}", {"strength": g}) for g in (0.0, 1.0, 2.0, 3.0, 5.0)]
    return explorer(
        [W.HBox([label, strength])],
        {"label": label, "strength": strength},
        fig,
        draw,
        settings,
        slider_prefix="strength ",
    )
