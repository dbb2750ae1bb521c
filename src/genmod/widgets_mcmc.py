"""The step-size explorer of notebook 01 (the statistician's way).

The figures of notebook 01 are in :mod:`genmod.figures_mcmc`, re-exported here under their
old names; the trajectory animation itself is :func:`genmod.widgets.animate`.
"""

from __future__ import annotations

import warnings

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from genmod import diagnostics, mcmc, plots, targets
from genmod.explorer import Explorer, explorer
from genmod.figures_mcmc import (  # noqa: F401 (figures re-exported: the notebooks' names)
    METHOD_COLORS,
    burn_in_figure,
    cost_figure,
    trace_acf_figure,
)
from genmod.scene import Patch, f32
from genmod.targets import Target


def step_size_explorer(
    target: str | Target = "correlated_gaussian",
    method: str = "rwm",
    step_size: float = 0.5,
    n_chains: int = 100,
    n_steps: int = 300,
    seed: int = 0,
) -> Explorer:
    """Pick a sampler and a step size; see acceptance, one chain's path, traces and ESS.

    Each change reruns ``n_chains`` chains from exact samples (no burn-in needed), so
    what you see is mixing alone. Readout: acceptance, bulk ESS per 1,000 draws and
    target evaluations per independent sample, and where step-size adaptation
    (``step_size="auto"``, dual averaging) lands for that sampler. Static form: the chosen
    sampler at six step sizes from 0.03 to 3.
    """
    t = targets.get(target) if isinstance(target, str) else target
    x0 = t.sample(n_chains, seed=seed + 1)
    pick = W.Dropdown(options=["rwm", "mala", "hmc"], value=method, description="sampler")
    eps = W.FloatLogSlider(
        value=step_size,
        base=10,
        min=-2,
        max=1,
        step=0.05,
        description="step size",
        continuous_update=False,
        readout_format=".3f",
    )
    fig = make_subplots(rows=1, cols=2, column_widths=[0.42, 0.58], horizontal_spacing=0.1)
    fig.add_trace(plots.density_trace(t, resolution=80), row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines+markers", name="one chain"), row=1, col=1)
    for j in range(3):
        fig.add_trace(go.Scatter(mode="lines", line=dict(width=1), name=f"chain {j}"), row=1, col=2)
    (a, b), (c, d) = t.bounds
    fig.update_xaxes(range=[a, b], row=1, col=1)
    fig.update_yaxes(range=[c, d], row=1, col=1)
    fig.update_xaxes(title="step", row=1, col=2)
    fig.update_yaxes(title="x", row=1, col=2)
    plots.layout(fig, height=360, width=820, showlegend=False)

    adapted: dict[str, float] = {}

    def where_adaptation_lands(method: str) -> float:
        """The step dual averaging picks for this sampler (300 warm-up steps, cached)."""
        if method not in adapted:
            run = mcmc.sample(
                t, method, n_chains, 1, step_size="auto", warmup=300, seed=seed, x0=x0
            )
            adapted[method] = run.extras["step_size"]
        return adapted[method]

    def draw(v) -> Patch:
        # a run whose chains diverge or stick warns: shown in the readout, not on stderr
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            traj = mcmc.sample(
                t,
                v["method"],
                n_chains=n_chains,
                n_steps=n_steps,
                step_size=v["step_size"],
                seed=seed,
                x0=x0,
            )
            s = diagnostics.summary(traj)
        path = traj.xs[-60:, 0].numpy()
        color = METHOD_COLORS[v["method"]]
        traces = {
            1: {
                "x": f32(path[:, 0]),
                "y": f32(path[:, 1]),
                "line.color": color,
                "marker.color": color,
            }
        }
        for j in range(3):
            traces[2 + j] = {
                "x": np.arange(n_steps + 1, dtype=np.float32),
                "y": f32(traj.xs[:, j, 0]),
            }
        per_1000 = 1000 * s["ess_bulk"] / (n_chains * (n_steps + 1))
        readout = (
            f"step size {v['step_size']:.3g}: acceptance <b>{s['acceptance']:.2f}</b> &nbsp; "
            f"bulk ESS per 1,000 draws <b>{per_1000:.0f}</b> &nbsp; "
            f"evaluations per independent sample <b>{s['evals_per_ess']:.3g}</b> &nbsp; "
            f"divergences {s['divergences']} &middot; "
            f"adaptation lands at step <b>{where_adaptation_lands(v['method']):.3g}</b>"
        )
        trouble = [str(w.message).split(": ", 1)[-1] for w in caught]
        if trouble:
            readout += f"<br><b>warning</b>: {trouble[0].split(';')[0]}"
        return Patch(traces, readout=readout)

    settings = [(f"{e:g}", {"step_size": e}) for e in (0.03, 0.1, 0.3, 0.5, 1.0, 3.0)]
    return explorer(
        [W.HBox([pick, eps])],
        {"method": pick, "step_size": eps},
        fig,
        draw,
        settings,
        slider_prefix="step size ",
    )
