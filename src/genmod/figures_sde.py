"""Figures and the sampler table of the SDE notebooks (06, 07): likelihood maps, sample
panels, EM / PC / ODE quality at equal score calls, inpainting.

They return ``go.Figure`` (or rows); the guidance explorer is in :mod:`genmod.widgets_sde`.
"""

from __future__ import annotations

from collections.abc import Callable

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from genmod import control, metrics, plots, sde
from genmod.targets import Target


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
                metrics.quality(
                    sde.sample(
                        score_fn, an_sde, n, method=method, n_steps=budget // per_step, seed=s
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
