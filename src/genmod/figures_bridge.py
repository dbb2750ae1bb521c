"""Figures of the bridge from the talk's analogy to the SDE machinery (notebook 06).

- :func:`pt_heatmap`: p_t over (t, x) for a 1D mixture, with reverse-SDE and PF-ODE
  paths on it (the signature picture of Song's blog post);
- :func:`inverse_transform_figure`: the 1D PF-ODE map z -> x against F^{-1}(Phi(z))
  and notebook 02's tabulated inverse CDF.

Static ``go.Figure`` objects: they need no kernel to be read.
"""

from __future__ import annotations

import plotly.graph_objects as go
import torch

from genmod import oned, plots
from genmod.arrays import generator
from genmod.sde import SDE

SDE_COLOR, ODE_COLOR = "#d62728", "#1f77b4"


def pt_heatmap(
    mix: oned.Mixture1D, an_sde: SDE, n_paths: int = 8, seed: int = 0, lim=None
) -> go.Figure:
    """p_t(x) as a heatmap, time on the horizontal axis (data at t = 0 on the left).

    ``n_paths`` prior draws x_T run backwards twice: through the reverse SDE (red,
    jagged: fresh noise at every step) and through the PF-ODE (blue, smooth: the same
    x_T always gives the same x_0). Both end distributed as the data.
    """
    lim = lim or (-3.0 * an_sde.prior_std, 3.0 * an_sde.prior_std)
    ts, xs, dens = oned.heatmap(mix, an_sde, n_times=60, n_x=100, lim=lim)
    g = generator(seed)
    x_T = an_sde.prior_std * torch.randn(n_paths, generator=g, dtype=torch.float64)
    score_fn = oned.exact_score(mix, an_sde)
    t_sde, p_sde = oned.reverse_sde_paths(score_fn, an_sde, x_T, 400, seed=seed + 1)
    t_ode, p_ode = oned.pf_ode_paths(score_fn, an_sde, x_T, 100)
    fig = go.Figure(
        go.Heatmap(
            x=ts.numpy(),
            y=xs.numpy(),
            # sqrt: the wide late densities stay visible; float32 keeps the stored figure small
            z=dens.T.sqrt().float().numpy(),
            colorscale="Greys",
            showscale=False,
            hovertemplate="t %{x:.2f}<br>x %{y:.2f}<extra></extra>",
        )
    )
    for paths, times, color, name in (
        (p_sde[::4], t_sde[::4], SDE_COLOR, "reverse SDE"),
        (p_ode, t_ode, ODE_COLOR, "PF-ODE"),
    ):
        for i in range(n_paths):
            fig.add_trace(
                go.Scatter(
                    x=times.float().numpy(),
                    y=paths[:, i].float().numpy(),
                    mode="lines",
                    line=dict(color=color, width=1.5),
                    name=name,
                    legendgroup=name,
                    showlegend=i == 0,
                )
            )
    fig.update_xaxes(title="t (0: data, 1: noise; samplers run right to left)", range=[0, 1])
    fig.update_yaxes(title="x", range=list(lim))
    return plots.layout(fig, height=380, title=f"p_t under the {an_sde.name.upper()} SDE")


def inverse_transform_figure(mix: oned.Mixture1D, an_sde: SDE, n: int = 41) -> go.Figure:
    """The PF-ODE map z -> x_0 (points) on the curve F^{-1}(Phi(z)) and 02's inverse CDF."""
    z = torch.linspace(-2.5, 2.5, n, dtype=torch.float64)
    r = oned.pf_ode_is_inverse_transform(mix, an_sde, z)
    zz = torch.linspace(-2.5, 2.5, 400, dtype=torch.float64)
    exact = oned.pf_ode_is_inverse_transform(mix, an_sde, zz, n_steps=1)["exact"]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=zz.numpy(),
            y=exact.numpy(),
            mode="lines",
            name="F^-1(Phi(z))",
            line=dict(color="#444", width=2),
        )
    )
    for key, name, marker in (
        ("grid", "02's inverse CDF", dict(symbol="square-open", size=10, color="#2ca02c")),
        ("ode", "PF-ODE map", dict(size=5, color=ODE_COLOR)),
    ):
        fig.add_trace(
            go.Scatter(x=z.numpy(), y=r[key].numpy(), mode="markers", name=name, marker=marker)
        )
    fig.update_xaxes(title="noise z")
    fig.update_yaxes(title="sample x")
    title = f"1D PF-ODE = inverse transform (max gap {r['max_err_exact']:.1e})"
    return plots.layout(fig, height=360, title=title)
