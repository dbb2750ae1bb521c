"""One panel of an animation: a trajectory over its target, as a scene (base figure + patches).

Layout (one figure): the main plot (density heatmap, contours, particles with fading
trails, the sampler's overlay for a few highlighted chains), marginal histograms on top
(x) and right (y) against the true marginals, and a trace strip below (x of the
highlighted chains against time). Moving layers are WebGL (Scattergl): plotly draws its
WebGL canvas above SVG traces, so overlays drawn in SVG would hide under the particles.
The sampler's overlay comes from :mod:`genmod.overlays`; the readout line from
:mod:`genmod.readouts`. Both renderers use ``figure()`` and ``patch(j, view)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from genmod import drawing, overlays, plots
from genmod.options import AnimationOptions
from genmod.panel_layout import OVERLAY_LOOK, add_target_layers, panel_layout
from genmod.readouts import PanelReadout
from genmod.scene import Patch
from genmod.trajectory import Trajectory

HIGHLIGHT = ["#7570b3", "#e6ab02", "#1f78b4", "#a6761d", "#666666"]
_EMPTY = np.empty(0, dtype=np.float32)


@dataclass(frozen=True)
class View:
    """How much a renderer draws per frame: particles, trail segments, points per trace line."""

    particles: int
    trail: int
    trail_points: int
    strip_points: int = 1000


def _xy(points) -> dict:
    x, y = drawing.xy(points)
    return {"x": x, "y": y}


class TrajectoryPanel:
    """A trajectory's panel: ``figure()`` builds it, ``patch(j, view)`` is time index j.

    ``idx`` maps layer names to trace indices: density, contours, exact, true_x, true_y,
    trail1.., particles, hist_x, hist_y, the overlay layers (chains with proposals),
    highlight, trace0...
    """

    def __init__(self, traj: Trajectory, target, opts: AnimationOptions, exact=None, dens=None):
        self.traj, self.target, self.opts = traj, target, opts
        self.exact, self.dens = exact, dens
        self.xs = traj.xs.detach().float().cpu().numpy()
        self.times = traj.times.detach().double().cpu().numpy()
        self.chain = traj.kind == "chain"
        n = min(traj.n_particles, opts.max_points)
        hl = opts.highlight
        self.highlighted = (
            list(range(min(hl, n)))
            if isinstance(hl, int)
            else [int(i) for i in hl if 0 <= int(i) < n]
        )
        self.moves = overlays.Moves.of(traj, self.highlighted)
        self.overlay = overlays.overlay_for(traj)
        self.hist = opts.hist
        if self.hist == "auto":
            self.hist = "current" if traj.n_particles >= 50 else "cumulative"
        self.readout = PanelReadout(
            traj, target, opts.quality_points, opts.burn_in, opts.readout, opts.seed
        )
        self.bounds = target.bounds if target is not None else self._data_bounds()
        (x0, x1), (y0, y1) = self.bounds
        self.edges = [np.linspace(x0, x1, opts.bins + 1), np.linspace(y0, y1, opts.bins + 1)]
        self.centers = [((e[1:] + e[:-1]) / 2).astype(np.float32) for e in self.edges]
        self._idx: dict[str, int] | None = None

    @property
    def idx(self) -> dict[str, int]:
        """Layer name -> trace index (the same in the live and the static figure)."""
        if self._idx is None:
            self.figure()
        return self._idx

    def _data_bounds(self):
        p = self.xs[:, : self.opts.max_points]
        fin = p[drawing.finite_rows(p)]
        lo, hi = (fin.min(0), fin.max(0)) if len(fin) else (np.array([-1, -1]), np.array([1, 1]))
        pad = 0.05 * max(float((hi - lo).max()), 1e-6)
        return (float(lo[0]) - pad, float(hi[0]) + pad), (float(lo[1]) - pad, float(hi[1]) + pad)

    # ---- the base figure ----------------------------------------------------------------
    def figure(self) -> go.Figure:
        """The panel's traces and layout (``opts.trail`` fading trail traces), no data yet."""
        trail = self.opts.trail
        color = plots.COLORS["chain" if self.chain else "map"]
        data: list = []
        idx = self._idx = {}

        def add(name, trace):
            idx[name] = len(data)
            data.append(trace)

        empty = {"hoverinfo": "skip", "x": _EMPTY, "y": _EMPTY}
        if self.target is not None:
            add_target_layers(add, self.dens, self.exact)
        for a in range(1, trail + 1):
            fade = 0.35 * (1 - (a - 1) / trail)
            add(
                f"trail{a}",
                go.Scattergl(**empty, mode="lines", line=dict(color=color, width=1), opacity=fade),
            )
        marker = dict(size=4, color=color, opacity=0.75)
        add(
            "particles",
            go.Scattergl(
                x=_EMPTY,
                y=_EMPTY,
                mode="markers",
                name=self.traj.label,
                marker=marker,
                meta="particles",  # the moving points (tests/test_browser.py)
            ),
        )
        bar = dict(marker=dict(color=color, opacity=0.55, line=dict(width=0)), hoverinfo="skip")
        add("hist_x", go.Bar(x=self.centers[0], y=_EMPTY, xaxis="x2", yaxis="y2", **bar))
        add(
            "hist_y",
            go.Bar(x=_EMPTY, y=self.centers[1], orientation="h", xaxis="x3", yaxis="y3", **bar),
        )
        if self.moves is not None:
            for name in overlays.LAYERS:
                add(name, go.Scattergl(**empty, **OVERLAY_LOOK[name]))
        # SVG, not WebGL: restyling a Scattergl's marker.line.color array stalled its updates
        ring = dict(
            size=10,
            color=HIGHLIGHT[: len(self.highlighted)] or "black",
            line=dict(width=2.5, color="black"),
        )
        add("highlight", go.Scatter(**empty, mode="markers", marker=ring))
        for i in range(len(self.highlighted)):
            line = dict(color=HIGHLIGHT[i % len(HIGHLIGHT)], width=1)
            add(f"trace{i}", go.Scattergl(**empty, mode="lines", xaxis="x4", yaxis="y4", line=line))
        fig = go.Figure(data=data)
        panel_layout(fig, self)
        return fig

    # ---- one frame --------------------------------------------------------------------------
    def patch(self, j: int, view: View) -> Patch:
        """Time index j (clamped) as a Patch of this panel's traces (and its readout line)."""
        j = max(0, min(int(j), len(self.traj) - 1))
        P, m = self.xs[:, : view.particles], min(view.trail_points, view.particles)
        ix = self.idx
        ch: dict[int, dict] = {}
        cur = P[j][drawing.finite_rows(P[j])]
        ch[ix["particles"]] = _xy(cur)
        for a in range(1, min(view.trail, self.opts.trail) + 1):  # the rest stay empty
            seg = (
                drawing.segments(P[j - a, :m], P[j - a + 1, :m])
                if j - a >= 0
                else overlays.NO_POINTS
            )
            ch[ix[f"trail{a}"]] = _xy(seg)
        hx, hy = self._hist(j, P, cur)
        # send both coordinates: a partial restyle lost the bar positions in JupyterLab
        ch[ix["hist_x"]] = {"x": self.centers[0], "y": hx}
        ch[ix["hist_y"]] = {"x": hy, "y": self.centers[1]}
        hl = self.xs[:, self.highlighted]
        ch[ix["highlight"]] = _xy(hl[j])
        if self.moves is not None:
            self._overlay(j, ch, ix)
        stride = max(1, math.ceil((j + 1) / view.strip_points))
        tt = np.ascontiguousarray(self.times[: j + 1 : stride], dtype=np.float32)
        for i in range(len(self.highlighted)):
            ch[ix[f"trace{i}"]] = {"x": tt, "y": np.ascontiguousarray(hl[: j + 1 : stride, i, 0])}
        return Patch(ch, readout=self.readout.line(j, self.opts.extra(self.traj, j)))

    def _hist(self, j, P, cur):
        if self.hist == "cumulative":  # few chains: pool every frame so far
            return [drawing.hist_density(P[: j + 1, :, d].ravel(), self.edges[d]) for d in range(2)]
        return drawing.hist_density(cur[:, 0], self.edges[0]), drawing.hist_density(
            cur[:, 1], self.edges[1]
        )

    def _overlay(self, j: int, ch: dict, ix: dict) -> None:
        """The sampler's overlay of step j - 1: the move that led to frame j."""
        drawn = self.overlay(self.moves, j - 1) if j > 0 else {}
        for name in overlays.LAYERS:
            ch[ix[name]] = _xy(drawn.get(name, overlays.NO_POINTS))
        if j == 0:
            ch[ix["highlight"]]["marker.line.color"] = "black"
            return
        # a rejected step counts the old point again: its ring turns red
        acc = self.moves.accepted[j - 1]
        ch[ix["highlight"]]["marker.line.color"] = [
            plots.COLORS["accepted"] if a else plots.COLORS["rejected"] for a in acc
        ]
