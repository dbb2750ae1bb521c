"""Figures and widgets for the SDE notebooks (06, 07): likelihood maps, sample panels,
the sampler table, inpainting, and a classifier-guidance explorer."""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from genmod import control, metrics, plots, reverse
from genmod.explorer import explorer
from genmod.scene import Patch, f32
from genmod.targets import GaussianMixture, Target


def likelihood_heatmaps(
    model_log_prob: Callable, target: Target, resolution: int = 40, floor: float = 8.0
) -> go.Figure:
    """Model log density (left) next to the target's (right), on one colour scale.

    model_log_prob: maps (m, 2) points to (m,) log densities (e.g. through the PF-ODE).
    Both maps are clipped ``floor`` nats below the target's maximum.
    """
    fig = make_subplots(1, 2, subplot_titles=("model: log p through the PF-ODE", "true log p"))
    true = lambda p: target.log_prob(p)  # noqa: E731
    top = float(target.log_prob(target.sample(2000, seed=0)).max())
    for col, fn in ((1, model_log_prob), (2, true)):
        fig.add_trace(
            plots.function_heatmap(
                lambda p, fn=fn: torch.as_tensor(fn(p)).clamp(min=top - floor),
                target.bounds,
                resolution,
                zmin=top - floor,
                zmax=top,
                showscale=col == 2,
            ),
            1,
            col,
        )
        fig.update_yaxes(scaleanchor=f"x{col if col > 1 else ''}", row=1, col=col)
    return plots.layout(fig, height=380, width=780)


def samples_figure(panels: list[tuple[str, torch.Tensor]], target: Target, height=340) -> go.Figure:
    """One panel per (title, (n, 2) samples), each over the target density."""
    fig = make_subplots(1, len(panels), subplot_titles=[p[0] for p in panels])
    (x0, x1), (y0, y1) = target.bounds
    for i, (_, x) in enumerate(panels, start=1):
        fig.add_trace(plots.density_trace(target, resolution=60), 1, i)
        fig.add_trace(plots.points_trace(x, color=plots.COLORS["map"], size=3), 1, i)
        fig.update_xaxes(range=[x0, x1], row=1, col=i)
        fig.update_yaxes(range=[y0, y1], row=1, col=i)
    return plots.layout(fig, height=height, width=height * len(panels), showlegend=False)


def quality(x: torch.Tensor, target: Target, seed: int = 0) -> float:
    """Like metrics.quality(x, target, seed), but always over the seed-0 noise floor.

    The floor is cached on the target by ``metrics.noise_floor``, so averaging over several
    reference seeds costs one energy distance per seed.
    """
    ref = target.sample(x.shape[0], seed=2_000_000 + seed)
    return metrics.energy_distance(x, ref) / metrics.noise_floor(target, x.shape[0], seed=0).mean


def sampler_table(
    score_fn: Callable, an_sde, target: Target, budgets=(50, 100, 200, 400), n=2000, seeds=(0, 1)
) -> list[dict]:
    """Quality (mean over sampler seeds) of EM, PC and the RK4 PF-ODE at equal score-call budgets.

    EM uses ``budget`` steps, PC ``budget / 2`` (one corrector step each), RK4 ``budget / 4``.
    """
    rows = []
    for budget in budgets:
        row = {"score calls": budget}
        for method, per_step in (("em", 1), ("pc", 2), ("ode", 4)):
            qs = [
                quality(
                    reverse.sample(
                        score_fn, an_sde, n, method=method, steps=budget // per_step, seed=s
                    ).final(),
                    target,
                    seed=s,
                )
                for s in seeds
            ]
            row[method] = sum(qs) / len(qs)
        rows.append(row)
    return rows


def format_table(rows: list[dict], digits: int = 1) -> str:
    """Rows of dicts as a fixed-width text table (numbers rounded to ``digits``)."""
    keys = list(rows[0])
    fmt = lambda v: f"{v:.{digits}f}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["  ".join(f"{k:>12}" for k in keys)]
    lines += ["  ".join(f"{fmt(r[k]):>12}" for k in keys) for r in rows]
    return "\n".join(lines)


def inpainting_figure(traj, target: Target, known_x: float, height: int = 340) -> go.Figure:
    """Left: the inpainted samples on the density; right: their y histogram vs the true p(y | x)."""
    fig = make_subplots(1, 2, subplot_titles=(f"samples with x = {known_x:g}", "y given x"))
    y = traj.final()[:, 1]
    fig.add_trace(plots.density_trace(target, resolution=60), 1, 1)
    fig.add_trace(plots.points_trace(traj.final(), color=plots.COLORS["map"]), 1, 1)
    (y0, y1) = target.bounds[1]
    ys = torch.linspace(y0, y1, 300)
    fig.add_trace(
        go.Histogram(
            x=y.numpy(),
            histnorm="probability density",
            nbinsx=40,
            name="inpainted",
            marker_color=plots.COLORS["map"],
            opacity=0.6,
        ),
        1,
        2,
    )
    dens = control.conditional_density(target, known_x, ys).float().numpy()
    fig.add_trace(
        go.Scatter(
            x=ys.numpy(),
            y=dens,
            mode="lines",
            name="true p(y | x)",
            line=dict(color=plots.COLORS["exact"]),
        ),
        1,
        2,
    )
    return plots.layout(fig, height=height, width=2 * height + 60, showlegend=False)


def guidance_explorer(
    target: GaussianMixture, an_sde, n: int = 500, steps: int = 40, height: int = 400
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
        x = reverse.sample(score, an_sde, n, method="ode", steps=steps, seed=0).final()
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
