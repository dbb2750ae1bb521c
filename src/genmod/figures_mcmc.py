"""Figures of notebook 01 (the statistician's way): burn-in, traces and autocorrelation, cost.

Computing lives in :mod:`genmod.mcmc` and :mod:`genmod.diagnostics`; these only draw and
return ``go.Figure``. The step-size explorer is in :mod:`genmod.widgets_mcmc`.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from genmod import diagnostics, plots
from genmod.trajectory import Trajectory

#: One colour per sampler, the same in every figure of the notebook.
METHOD_COLORS = {"rwm": "#d95f02", "mala": "#7570b3", "hmc": "#1b9e77", "ula": "#e6ab02"}


def _color(i: int, label: str) -> str:
    key = label.split()[0].lower()
    return METHOD_COLORS.get(key, plots.COLORS["chain"] if i == 0 else "#666666")


def burn_in_figure(times, ratios, acceptance=None, title: str = "Burn-in") -> go.Figure:
    """Distance / noise floor of the cloud of chains against the step (log scale).

    times, ratios: (k,) from :func:`genmod.diagnostics.quality_over_time`;
    acceptance: optional (n_steps,) running acceptance drawn on a second axis.
    """
    fig = make_subplots(specs=[[{"secondary_y": acceptance is not None}]])
    fig.add_trace(
        go.Scatter(
            x=np.asarray(times),
            y=np.asarray(ratios, dtype=np.float32),
            mode="lines+markers",
            name="distance / noise floor",
            line=dict(color=plots.COLORS["chain"]),
        )
    )
    fig.add_hline(y=1.0, line=dict(dash="dot", color=plots.COLORS["exact"]))
    if acceptance is not None:
        acc = np.asarray(acceptance, dtype=np.float32)
        fig.add_trace(
            go.Scatter(
                x=np.arange(1, len(acc) + 1),
                y=acc,
                mode="lines",
                name="acceptance so far",
                line=dict(color=plots.COLORS["accepted"], width=1),
            ),
            secondary_y=True,
        )
        fig.update_yaxes(title="acceptance", range=[0, 1], secondary_y=True)
    fig.update_yaxes(type="log", title="distance / noise floor", secondary_y=False)
    fig.update_xaxes(title="step")
    return plots.layout(fig, height=340, title=title)


def trace_acf_figure(
    trajectories: dict[str, Trajectory],
    coord: int = 0,
    chain: int = 0,
    max_lag: int = 60,
    burn_in: int = 0,
    n_trace: int = 300,
) -> go.Figure:
    """Left: one chain's coordinate against the step; right: autocorrelation (chain mean).

    trajectories: label -> chain Trajectory (same target); coord: 0 for x, 1 for y.
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=("trace of one chain", "autocorrelation"))
    lags = np.arange(max_lag + 1)
    for i, (label, traj) in enumerate(trajectories.items()):
        x = diagnostics.draws(traj, burn_in)[coord]  # (chains, draws)
        color = _color(i, label)
        fig.add_trace(
            go.Scatter(
                x=np.arange(burn_in, burn_in + min(n_trace, x.shape[1])),
                y=x[chain, :n_trace].astype(np.float32),
                mode="lines",
                line=dict(width=1, color=color),
                name=label,
                legendgroup=label,
            ),
            row=1,
            col=1,
        )
        rho = diagnostics.autocorr(x, max_lag=min(max_lag, x.shape[1] - 1)).mean(0)
        fig.add_trace(
            go.Scatter(
                x=lags[: len(rho)],
                y=rho.astype(np.float32),
                mode="lines",
                line=dict(color=color),
                name=label,
                legendgroup=label,
                showlegend=False,
            ),
            row=1,
            col=2,
        )
    fig.update_xaxes(title="step", row=1, col=1)
    fig.update_xaxes(title="lag", row=1, col=2)
    fig.update_yaxes(title="xy"[coord], row=1, col=1)
    fig.update_yaxes(range=[-0.2, 1.02], row=1, col=2)
    return plots.layout(fig, height=330)


def cost_figure(
    costs: dict[str, float], title: str = "Cost of one independent sample"
) -> go.Figure:
    """Bars of target evaluations per effective sample (log scale), one per sampler label."""
    labels = list(costs)
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=np.array([costs[k] for k in labels], dtype=np.float32),
            marker_color=[_color(i, k) for i, k in enumerate(labels)],
        )
    )
    fig.add_hline(y=1.0, line=dict(dash="dot", color=plots.COLORS["exact"]))
    fig.update_yaxes(type="log", title="evaluations per independent sample")
    return plots.layout(fig, height=320, title=title)
