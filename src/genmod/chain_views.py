"""Views of the experts' samplers: parallel tempering's ladder and NUTS's doubling.

Computing lives in :mod:`genmod.tempering` and :mod:`genmod.nuts`; these draw it. Both
have a kernel-free static form: the tempering animation is a :func:`genmod.widgets.animate`
(one panel per temperature), the doubling view an :func:`genmod.explorer.explorer` whose
static form has one frame per doubling.
"""

from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch

from genmod import plots, targets, widgets
from genmod.explorer import Explorer, explorer
from genmod.scene import Patch, f32
from genmod.trajectory import Trajectory

#: colour of each doubling of a NUTS trajectory (depth 0, 1, 2, ...), then the last repeats
DEPTH_COLORS = ["#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]


def level(traj: Trajectory, k: int) -> Trajectory:
    """Level k of a parallel-tempering run as its own chain trajectory (no proposals).

    extras: ``temperature``, ``swapped`` (n_steps, n_chains) bool: the chain's state was
    exchanged with a neighbour level at that step, ``level``.
    """
    ex = traj.extras
    temps = ex["temperatures"]
    sw = ex["swap_accepted"]  # (n_steps, K - 1, n): pair j is levels j, j + 1
    swapped = torch.zeros_like(sw[:, 0])
    if k > 0:
        swapped |= sw[:, k - 1]
    if k < len(temps) - 1:
        swapped |= sw[:, k]
    t = float(temps[k])
    return Trajectory(
        ex["xs_all"][:, k],
        kind="chain",
        label=f"T = {t:.3g}",
        warmup=traj.warmup,
        extras={"method": "pt", "temperature": t, "swapped": swapped, "level": k},
    )


def _swap_readout(traj: Trajectory, j: int) -> str:
    """Readout of one level at frame j: swaps so far and this step."""
    sw = traj.extras["swapped"]
    j = max(0, min(int(j), len(sw)))
    so_far = int(sw[:j].sum())
    now = int(sw[j - 1].sum()) if j > 0 else 0
    return f"swaps this step <b>{now}</b>, so far {so_far:,}"


def tempering_animation(traj: Trajectory, target, levels=None, every: int = 1, **kw):
    """Animate chosen levels of a parallel-tempering run side by side (one Play button).

    levels: level indices (default: the coldest, a middle and the hottest); every: show
    every ``every``-th step. Each panel's readout adds the swaps with its neighbours.
    Other keywords go to :func:`genmod.widgets.animate` (its static form included).
    """
    k = len(traj.extras["temperatures"])
    levels = levels if levels is not None else sorted({0, k // 2, k - 1})
    panels = []
    for i in levels:
        lv = level(traj, i)
        if every > 1:
            thin = lv.thin(every)
            idx = list(range(0, len(lv), every))
            if idx[-1] != len(lv) - 1:
                idx.append(len(lv) - 1)
            # a thinned frame shows every swap since the previous shown frame
            sw = lv.extras["swapped"]
            blocks = [sw[a:b].any(0) for a, b in zip(idx[:-1], idx[1:], strict=True)]
            thin.extras["swapped"] = torch.stack(blocks) if blocks else sw[:0]
            lv = thin
        panels.append(lv)
    kw.setdefault("highlight", 0)
    return widgets.animate(*panels, target=target, extra_readout=_swap_readout, **kw)


def swap_rate_figure(traj: Trajectory, title: str = "Swap rates along the ladder") -> go.Figure:
    """Bar per neighbouring pair of temperatures: the fraction of proposed swaps accepted."""
    temps = traj.extras["temperatures"].tolist()
    rates = traj.extras["swap_rates"].tolist()
    names = [f"{a:.3g} - {b:.3g}" for a, b in zip(temps[:-1], temps[1:], strict=True)]
    fig = go.Figure(go.Bar(x=names, y=rates, marker_color=plots.COLORS["chain"]))
    fig.update_yaxes(range=[0, 1], title="swap acceptance")
    fig.update_xaxes(title="neighbouring temperatures")
    return plots.layout(fig, height=300, width=620, title=title, showlegend=False)


def _doubling_figure(t, record) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(plots.density_trace(t, resolution=80))
    fig.add_trace(go.Scatter(mode="lines", line=dict(color="#999999", width=1), name="path"))
    fig.add_trace(go.Scatter(mode="markers", marker=dict(size=7), name="states"))
    start = record["start"].numpy()
    fig.add_trace(
        go.Scatter(
            x=[start[0]], y=[start[1]], mode="markers", name="start",
            marker=dict(size=12, color="black", symbol="x"),
        )
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            mode="markers", name="drawn",
            marker=dict(size=16, color="rgba(0,0,0,0)", line=dict(width=3, color="#d95f02")),
        )
    )  # fmt: skip
    (a, b), (c, d) = t.bounds
    fig.update_xaxes(range=[a, b])
    fig.update_yaxes(range=[c, d], scaleanchor="x")
    return plots.layout(fig, height=420, width=460, showlegend=False)


def _ordered(record, upto: int):
    """States of doublings 0..upto in trajectory (time) order, with their depths."""
    start = record["start"].numpy()
    states, depth = record["states"].numpy(), record["depth"].numpy()
    back, front = [], []
    for j, v in enumerate(record["direction"].tolist()[: upto + 1]):
        block = states[depth == j]
        if v > 0:
            front.append((block, j))
        else:
            back.insert(0, (block[::-1], j))
    pts = [b for b, _ in back] + [start[None]] + [b for b, _ in front]
    deps = [np.full(len(b), j) for b, j in back] + [np.array([-1])]
    deps += [np.full(len(b), j) for b, j in front]
    return np.concatenate(pts), np.concatenate(deps)


def nuts_doubling(traj: Trajectory, target, iteration: int = 0) -> Explorer:
    """One NUTS transition of the recorded chain, doubling by doubling (a slider).

    Each doubling adds 2^j leapfrog states at one end of the trajectory, in a random
    direction of time; the colours mark the doubling that added each state; the ring is
    the state the transition drew (shown once the last doubling is on). Static form: one
    frame per doubling.
    """
    t = targets.get(target) if isinstance(target, str) else target
    record = traj.extras["doubling"][iteration]
    n_doublings = len(record["direction"])
    fig = _doubling_figure(t, record)
    slider = W.IntSlider(
        value=n_doublings - 1, min=0, max=max(n_doublings - 1, 0), description="doubling"
    )

    def draw(v) -> Patch:
        j = int(v["doubling"])
        pts, deps = _ordered(record, j)
        colors = ["black" if d < 0 else DEPTH_COLORS[min(d, len(DEPTH_COLORS) - 1)] for d in deps]
        last = j == n_doublings - 1
        sel = record["selected"].numpy()
        traces = {
            1: {"x": f32(pts[:, 0]), "y": f32(pts[:, 1])},
            2: {"x": f32(pts[:, 0]), "y": f32(pts[:, 1]), "marker.color": colors},
            4: {"x": f32([sel[0]] if last else []), "y": f32([sel[1]] if last else [])},
        }
        n_states = len(pts)
        way = "forward" if record["direction"][j] > 0 else "backward"
        readout = (
            f"doubling {j + 1} of {n_doublings}: {2**j} new states, {way} in time; "
            f"trajectory of <b>{n_states}</b> states"
            + (" &middot; stopped: the drawn state is ringed" if last else "")
        )
        return Patch(traces, readout=readout)

    settings = [(f"{j + 1}", {"doubling": j}) for j in range(n_doublings)]
    return explorer([slider], {"doubling": slider}, fig, draw, settings, slider_prefix="doubling ")
