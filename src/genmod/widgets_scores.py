"""Figures and widgets of notebooks 04 and 05: score fields, their errors, noise levels.

- :func:`score_figure`: a score as arrows over the density it belongs to;
- :func:`learned_vs_exact`: exact and learned score side by side, the error shaded;
- :func:`noise_explorer`: a sigma slider showing the perturbed density and its exact score;
- :func:`annealed_animation`: the trajectory animation plus the current noise level;
- :func:`weights_figure`: estimated mode weights of several samplers against the truth.

Computing lives in :mod:`genmod.score`; figures return ``go.Figure``, widgets an ipywidgets box.
"""

from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from genmod import plots, widgets
from genmod.explorer import Delegating, explorer
from genmod.scene import Patch, f32, pick_frames
from genmod.targets import GaussianMixture, Target
from genmod.trajectory import Trajectory

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
    learned_fn, exact: Target, bounds=None, n_arrows: int = 19, resolution: int = 80, height=420
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

    Trajectories from :func:`genmod.score.annealed_langevin` (thinned or not) carry
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
    box = Delegating([label, anim], anim.static_spec)
    box.animation = anim
    return box


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
