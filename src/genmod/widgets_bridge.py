"""The centrepiece explorer (notebook 06): one learned score, sampled three ways.

A seed slider redraws three panels over the target: a block of a long Langevin chain
(the chain moves on, correlated with the block before), the reverse SDE from one fixed
start with that seed (a different sample per seed: a stochastic map) and the PF-ODE from
the same start (the same sample for every seed: a deterministic map). The static form
stores every seed as a frame. The computing is in :mod:`genmod.three_ways`.
"""

from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from genmod import plots
from genmod.explorer import explorer
from genmod.figures_bridge import ODE_COLOR, SDE_COLOR
from genmod.scene import Patch, f32

CHAIN_COLOR = "#ff7f0e"


def _line(color, width=1.5, opacity=1.0):
    return go.Scatter(
        x=[0.0], y=[0.0], mode="lines", line=dict(color=color, width=width), opacity=opacity
    )


WIDTH = 820  # px, as the other wide explorers (widgets_mcmc)


def _dot(color, size=9, symbol="circle"):
    return go.Scatter(
        x=[0.0], y=[0.0], mode="markers", marker=dict(color=color, size=size, symbol=symbol)
    )


def _base(target, height):
    titles = ("a chain: the next block of steps", "reverse SDE: same start", "PF-ODE: same start")
    fig = make_subplots(1, 3, subplot_titles=titles, horizontal_spacing=0.04)
    (x0, x1), (y0, y1) = target.bounds
    for col in (1, 2, 3):
        fig.add_trace(plots.density_trace(target, resolution=50), 1, col)  # traces 0-2
        fig.update_xaxes(range=[x0, x1], row=1, col=col)
        fig.update_yaxes(range=[y0, y1], row=1, col=col, scaleanchor=f"x{col if col > 1 else ''}")
    fig.add_trace(_line(CHAIN_COLOR, 1.0, 0.25), 1, 1)  # 3: the chain so far
    fig.add_trace(_line(CHAIN_COLOR, 1.5), 1, 1)  # 4: this block
    fig.add_trace(_dot(CHAIN_COLOR), 1, 1)  # 5: where the block ends
    for col, color in ((2, SDE_COLOR), (3, ODE_COLOR)):  # 6-8 SDE, 9-11 ODE
        fig.add_trace(_dot("#777", 6), 1, col)  # ends of the earlier seeds
        fig.add_trace(_line(color), 1, col)  # this seed's path
        fig.add_trace(_dot(color), 1, col)  # this seed's end
    for col in (2, 3):  # 12, 13: the common start
        fig.add_trace(_dot("black", 13, "star"), 1, col)
    # 820 px fits JupyterLab's output area beside the file browser at a 1280 px window
    return plots.layout(fig, height=height, width=WIDTH, showlegend=False)


def three_ways_explorer(target, chain_traj, chain_numbers: dict, maps: dict, height=310):
    """Seed slider over the three ways; see the module docstring.

    chain_traj, chain_numbers: :func:`genmod.three_ways.chain` (its first chain is drawn);
    maps: :func:`genmod.three_ways.same_start` (its first start is drawn).
    """
    n_seeds = len(maps["sde"])
    path = chain_traj.xs[:, 0].numpy()
    block = (len(path) - 1) // n_seeds
    sde_paths, ode_paths = (maps[f"{w}_paths"][:, :, 0].numpy() for w in ("sde", "ode"))
    fig = _base(target, height)
    start = maps["x_T"][0].numpy()
    for i in (12, 13):
        fig.data[i].update(x=[start[0]], y=[start[1]])
    seed = W.IntSlider(0, 0, n_seeds - 1, description="seed", continuous_update=False)

    def draw(v) -> Patch:
        k = v["seed"]
        seg = path[k * block : (k + 1) * block + 1]
        traces = {
            3: {"x": f32(path[: k * block + 1, 0]), "y": f32(path[: k * block + 1, 1])},
            4: {"x": f32(seg[:, 0]), "y": f32(seg[:, 1])},
            5: {"x": f32(seg[-1:, 0]), "y": f32(seg[-1:, 1])},
        }
        for first, paths in ((6, sde_paths), (9, ode_paths)):
            earlier = paths[: k + 1, -1]
            traces[first] = {"x": f32(earlier[:, 0]), "y": f32(earlier[:, 1])}
            traces[first + 1] = {"x": f32(paths[k, :, 0]), "y": f32(paths[k, :, 1])}
            traces[first + 2] = {"x": f32(paths[k, -1:, 0]), "y": f32(paths[k, -1:, 1])}
        gap = float(np.linalg.norm(sde_paths[k, -1] - sde_paths[0, -1]))
        readout = (
            f"seed {k}: chain steps {k * block}-{(k + 1) * block}, lag-1 autocorrelation "
            f"{chain_numbers['lag1']:.2f}, ESS {chain_numbers['ess']:.0f} &middot; "
            f"reverse SDE ends {gap:.2f} from seed 0's end &middot; PF-ODE: the same end "
            f"for every seed (spread {maps['ode_spread']:.0e})"
        )
        return Patch(traces, readout=readout)

    settings = [(str(k), {"seed": k}) for k in range(n_seeds)]
    return explorer([seed], {"seed": seed}, fig, draw, settings, slider_prefix="seed ")
