"""Widgets of notebooks 04 and 05: the noise-level explorer, the annealed Langevin animation.

- :func:`noise_explorer`: a sigma slider showing the perturbed density and its exact score;
- :func:`annealed_animation`: the trajectory animation plus the current noise level.

The figures (``score_figure``, ``learned_vs_exact``, ``weights_figure``, ``ladder_figure``)
are in :mod:`genmod.figures_scores`, re-exported here under their old names.
"""

from __future__ import annotations

import ipywidgets as W
import plotly.graph_objects as go
import torch

from genmod import plots, widgets
from genmod.explorer import Delegating, explorer
from genmod.figures_scores import (  # noqa: F401 (figures re-exported: the notebooks' names)
    ERROR_SCALE,
    ladder_figure,
    learned_vs_exact,
    score_figure,
    weights_figure,
)
from genmod.scene import Patch, f32, pick_frames
from genmod.targets import GaussianMixture, Target
from genmod.trajectory import Trajectory


def noise_explorer(
    mixture: GaussianMixture,
    sigmas,
    n_points: int = 500,
    n_arrows: int = 17,
    height: int = 420,
    seed: int = 0,
) -> W.VBox:
    """Slide through noise levels: the perturbed density p_sigma, its exact score, noisy data.

    p_sigma of a Gaussian mixture is again a mixture (``mixture.perturbed(sigma)``), so the
    density and the arrows are exact at every sigma. The dots are data plus sigma z.

    Parameters
    ----------
    mixture: the clean data distribution. sigmas: the ladder, shown largest first.
    """
    sig = [float(s) for s in torch.as_tensor(sigmas).reshape(-1)]
    if not sig:
        raise ValueError("need at least one sigma")
    bounds = mixture.bounds
    g = torch.Generator().manual_seed(seed)
    data = mixture.sample(n_points, seed=seed)
    z = torch.randn(data.shape, generator=g)
    fig = go.Figure(
        [
            plots.density_trace(mixture, 80),
            plots.points_trace(data, size=3, opacity=0.5, name="data + sigma z", gl=True),
            plots.vector_field(mixture.score, bounds, n_arrows),
        ]
    )
    (x0, x1), (y0, y1) = bounds
    fig.update_xaxes(range=[x0, x1])
    fig.update_yaxes(range=[y0, y1], scaleanchor="x")
    plots.layout(fig, height=height, width=height, showlegend=False)
    slider = W.SelectionSlider(
        options=[(f"{s:.3g}", i) for i, s in enumerate(sig)],
        value=0,
        description="sigma",
        continuous_update=True,
        layout=W.Layout(width="420px"),
    )

    def draw(v) -> Patch:
        s = sig[v["sigma"]]
        p = mixture.perturbed(s)
        heat = plots.density_trace(p, 80, bounds=bounds)
        arrows = plots.vector_field(p.score, bounds, n_arrows)
        noisy = (data + s * z).numpy()
        top = p.score(p.means.float()).norm(dim=1).max()
        traces = {
            0: {"z": heat.z},
            1: {"x": f32(noisy[:, 0]), "y": f32(noisy[:, 1])},
            2: {"x": arrows.x, "y": arrows.y},
        }
        readout = (
            f"sigma = <b>{s:.3g}</b>: component std {float(p.stds.min()):.3g}; "
            f"largest |score| at a component mean: {float(top):.3g}"
        )
        return Patch(
            traces, {"title.text": f"perturbed density and its score, sigma = {s:.3g}"}, readout
        )

    settings = [(f"{s:.3g}", {"sigma": i}) for i, s in enumerate(sig)]
    if len(settings) > 8:
        settings = [settings[i] for i in pick_frames(len(settings), 8)]
    box = explorer([slider], {"sigma": slider}, fig, draw, settings, slider_prefix="sigma = ")
    box.slider = slider
    return box


def annealed_animation(*trajectories: Trajectory, target: Target | None = None, **kw) -> Delegating:
    """``widgets.animate`` of annealed Langevin runs, with the noise level of the frame shown.

    Trajectories from :func:`genmod.langevin.annealed` (thinned or not) carry
    ``extras["sigma"]`` indexed by their original step; ``times`` keeps that step. The
    noise level is in the line above the panels and in each panel's readout (so the
    static form shows it too).
    """

    def sigma_text(tr: Trajectory, j: int) -> str:
        sig = tr.extras.get("sigma")
        if sig is None:
            return ""
        s = float(sig[int(tr.times[j])])
        return "denoised (Tweedie step)" if s == 0 else f"sigma = {s:.3g}"

    anim = widgets.animate(*trajectories, target=target, extra_readout=sigma_text, **kw)
    label = W.HTML()

    def show(_=None):
        parts = []
        for tr in trajectories:
            text = sigma_text(tr, anim.frame_index(tr, anim.slider.value))
            if text:
                parts.append(f"<b>{tr.label}</b>: {text}")
        label.value = " &nbsp;|&nbsp; ".join(parts)

    anim.slider.observe(show, names="value")
    show()
    box = Delegating([label, anim], anim)
    box.animation = anim
    return box
