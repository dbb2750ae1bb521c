"""One panel of :func:`genmod.widgets.animate`: a trajectory's FigureWidget and its frames.

Layout (one FigureWidget): the main plot (density heatmap, contours, particles with
fading trails, proposals of highlighted chains), marginal histograms on top (x) and
right (y) against the true marginals, and a trace strip below (x of the highlighted
particles against time). Moving layers are WebGL (Scattergl): plotly draws its WebGL
canvas above SVG traces, so proposals drawn in SVG would hide under the particles.
A frame is one ``fig.plotly_update`` call: exactly what ``batch_update`` sends, without
re-running plotly's property validators (~1 ms each).
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.basedatatypes import Undefined

from genmod import anim_layers as L
from genmod import plots
from genmod.staged import StagedFigure
from genmod.targets import Target
from genmod.trajectory import Trajectory

HIGHLIGHT = ["#7570b3", "#e6ab02", "#1f78b4", "#a6761d", "#666666"]
TIP_Q = (
    "energy distance between the particles and a fresh exact draw of the same size, "
    "divided by the noise floor (the distance two exact draws have): about 1 = as good as exact"
)
TIP_N = (
    "independent samples so far. Map: 0 until the last frame, then one per particle. "
    "Chains: n_chains * (k - burn_in) / tau, tau the integrated autocorrelation time "
    "(bulk ESS, arviz-stats, worse coordinate) of the kept steps; burn_in: the first half "
    "of the steps so far unless given; 0 while the chains have not mixed (rank R-hat > 1.1) "
    "or fewer than 10 steps are kept"
)
_EMPTY = np.empty(0, dtype=np.float32)
_NO_PTS = np.zeros((0, 2), dtype=np.float32)
_PROPOSAL_LAYERS = ("ellipses", "drift", "leapfrog", "accepted", "rejected")


def _np(t) -> np.ndarray:
    return t.detach().float().cpu().numpy()


def _xy(points) -> dict:
    x, y = L.xy(points)
    return {"x": x, "y": y}


def _extra(traj: Trajectory, key: str, shape: tuple) -> np.ndarray | None:
    """traj.extras[key] as float32 numpy if present with the expected shape, else None."""
    v = traj.extras.get(key)
    if v is None:
        return None
    try:
        v = np.asarray(_np(v) if hasattr(v, "detach") else v, dtype=np.float32)
    except (TypeError, ValueError):
        return None
    return v if v.shape == shape else None


def _domains(size: int, aspect: float):
    """Pixel layout: main plot size x size*aspect, marginals on top/right, trace strip below."""
    ml, mr, mt, mb, marg, gap, strip, strip_gap = 45, 10, 36, 30, 56, 6, 80, 42
    main_h = int(size * aspect)
    w = ml + size + gap + marg + mr
    h = mt + marg + gap + main_h + strip_gap + strip + mb
    ph, pw = h - mt - mb, w - ml - mr
    y_strip = (0, strip / ph)
    y_main = ((strip + strip_gap) / ph, (strip + strip_gap + main_h) / ph)
    y_top = (y_main[1] + gap / ph, 1)
    x_main, x_right = (0, size / pw), ((size + gap) / pw, 1)
    return w, h, dict(l=ml, r=mr, t=mt, b=mb), x_main, x_right, y_main, y_top, y_strip


class Panel:
    """A trajectory's FigureWidget; ``update(j)`` draws time index j, ``readout(j)`` says it.

    Reads from ``traj.extras`` (see :func:`genmod.mcmc.sample`), each optional:
    ``method`` and ``step_size`` (proposal circles for rwm, mala, ula), ``drift``
    (n_steps, n, 2: the proposal is N(x + drift, eps^2 I)), ``momenta`` (n_steps, n, 2),
    ``n_leapfrog`` and ``paths`` (n_steps, n_leapfrog + 1, n, 2) for HMC, ``divergent``
    (n_steps, n). Missing or misshapen keys are skipped.
    """

    def __init__(self, traj: Trajectory, target: Target | None, opts: dict, exact, dens):
        self.traj, self.target, self.o = traj, target, opts
        n = min(traj.n_particles, opts["max_points"])
        self.xs = _np(traj.xs)
        self.P = self.xs[:, :n]
        self.times = traj.times.detach().double().cpu().numpy()
        self.chain = traj.kind == "chain"
        hl = opts["highlight"]
        self.hl = (
            list(range(min(hl, n)))
            if isinstance(hl, int)
            else [int(i) for i in hl if 0 <= int(i) < n]
        )
        self.H = self.xs[:, self.hl]
        ns, nh, full = len(traj) - 1, len(self.hl), (len(traj) - 1, traj.n_particles, 2)
        self.props = _np(traj.proposals)[:, self.hl] if traj.proposals is not None and nh else None
        self.acc = None if traj.accepted is None else traj.accepted.detach().cpu().numpy()
        self.acc_rate = None if self.acc is None else L.running_mean(self.acc.astype(float))
        div = _extra(traj, "divergent", (ns, traj.n_particles))
        self.div = None if div is None else np.concatenate([[0], np.cumsum(div.sum(1))])
        self.drift = self.mom = self.paths = None
        if self.props is not None:
            d, m = _extra(traj, "drift", full), _extra(traj, "momenta", full)
            self.drift = None if d is None else d[:, self.hl]
            self.mom = None if m is None else m[:, self.hl]
            nl = traj.extras.get("n_leapfrog")
            if isinstance(nl, int) and nl > 0:
                p = _extra(traj, "paths", (ns, nl + 1, traj.n_particles, 2))
                self.paths = None if p is None else p[:, :, self.hl]
        eps, method = traj.extras.get("step_size"), traj.extras.get("method")
        self.eps = float(eps) if isinstance(eps, int | float) and eps > 0 else None
        # the proposal is Gaussian N(x + drift, eps^2 I) for these methods (mcmc.sample)
        self.circles = self.eps is not None and method in ("rwm", "mala", "ula")
        self.lf = traj.extras.get("n_leapfrog", 1)
        self.lf = self.lf if isinstance(self.lf, int) and self.lf > 0 else 1
        hist = opts["hist"]
        self.hist = (
            ("current" if traj.n_particles >= 50 else "cumulative") if hist == "auto" else hist
        )
        self.q_cache: dict[int, float] = {}
        self.n_cache: dict[int, L.Independent] = {}
        self.fig = self._figure(exact, dens)
        self.update(0)
        self.fig.publish()  # the browser's first picture is frame 0, layout and all

    # ---- building --------------------------------------------------------------------------
    def _bounds(self):
        if self.target is not None:
            return self.target.bounds
        fin = self.P[L.finite_rows(self.P)]
        lo, hi = (fin.min(0), fin.max(0)) if len(fin) else (np.array([-1, -1]), np.array([1, 1]))
        pad = 0.05 * max(float((hi - lo).max()), 1e-6)
        return (float(lo[0]) - pad, float(hi[0]) + pad), (float(lo[1]) - pad, float(hi[1]) + pad)

    def _figure(self, exact, dens) -> go.FigureWidget:
        o, t = self.o, self.target
        color = plots.COLORS["chain" if self.chain else "map"]
        (x0, x1), (y0, y1) = self._bounds()
        self.edges = [np.linspace(x0, x1, o["bins"] + 1), np.linspace(y0, y1, o["bins"] + 1)]
        self.centers = centers = [((e[1:] + e[:-1]) / 2).astype(np.float32) for e in self.edges]
        if self.hist == "cumulative":
            self.cum = [self._cumulative(d) for d in range(2)]
        idx, data = {}, []

        def add(name, trace):
            idx[name] = len(data)
            data.append(trace)

        line0 = {"hoverinfo": "skip", "x": _EMPTY, "y": _EMPTY}
        if t is not None:
            g = dens
            heat = dict(x=g["x"], y=g["y"], z=g["z"], showscale=False, hoverinfo="skip")
            add("density", go.Heatmap(**heat, colorscale=plots.DENSITY_SCALE, name="density"))
            add(
                "contours",
                go.Contour(
                    **heat,
                    opacity=0.45,
                    contours=dict(coloring="lines", start=0.1, end=0.9, size=0.2),
                    colorscale=[[0, "#08306b"], [1, "#08306b"]],
                    line=dict(width=0.6),
                ),
            )
            add(
                "exact",
                go.Scattergl(
                    **_xy(exact),
                    mode="markers",
                    visible=False,
                    name="exact",
                    marker=dict(size=3, color=plots.COLORS["exact"], opacity=0.5),
                ),
            )
            line = dict(color=plots.COLORS["exact"], width=1.5)
            mx, my = dict(x=g["x"], y=g["px"]), dict(x=g["py"], y=g["y"])
            add("true_x", go.Scatter(**mx, mode="lines", line=line, xaxis="x2", yaxis="y2"))
            add("true_y", go.Scatter(**my, mode="lines", line=line, xaxis="x3", yaxis="y3"))
        for a in range(1, o["trail"] + 1):
            add(
                f"trail{a}",
                go.Scattergl(
                    **line0,
                    mode="lines",
                    line=dict(color=color, width=1),
                    opacity=0.35 * (1 - (a - 1) / o["trail"]),
                ),
            )
        add(
            "particles",
            go.Scattergl(
                x=_EMPTY,
                y=_EMPTY,
                mode="markers",
                name=self.traj.label,
                meta="particles",  # the moving points (tests/test_browser.py)
                marker=dict(size=4, color=color, opacity=0.75),
            ),
        )
        bar = dict(marker=dict(color=color, opacity=0.55, line=dict(width=0)), hoverinfo="skip")
        add("hist_x", go.Bar(x=centers[0], y=_EMPTY, xaxis="x2", yaxis="y2", **bar))
        add(
            "hist_y", go.Bar(x=_EMPTY, y=centers[1], orientation="h", xaxis="x3", yaxis="y3", **bar)
        )
        if self.props is not None:
            add(
                "ellipses",
                go.Scattergl(
                    **line0,
                    mode="lines",
                    line=dict(color=plots.COLORS["proposal"], width=1, dash="dot"),
                ),
            )
            add(
                "drift",
                go.Scattergl(
                    **line0, mode="lines", line=dict(color=plots.COLORS["score"], width=2)
                ),
            )
            add(
                "leapfrog",
                go.Scattergl(
                    **line0,
                    mode="lines+markers",
                    marker=dict(size=4),
                    line=dict(color=plots.COLORS["proposal"], width=1.5),
                ),
            )
            for name in ("accepted", "rejected"):
                add(
                    name,
                    go.Scattergl(
                        **line0, mode="lines", line=dict(color=plots.COLORS[name], width=2)
                    ),
                )
        # SVG, not WebGL: restyling a Scattergl's marker.line.color array stalled its updates
        add(
            "highlight",
            go.Scatter(
                **line0,
                mode="markers",
                marker=dict(
                    size=10,
                    color=HIGHLIGHT[: len(self.hl)] or "black",
                    line=dict(width=2.5, color="black"),
                ),
            ),
        )
        for i in range(len(self.hl)):
            add(
                f"trace{i}",
                go.Scattergl(
                    **line0,
                    mode="lines",
                    xaxis="x4",
                    yaxis="y4",
                    line=dict(color=HIGHLIGHT[i % len(HIGHLIGHT)], width=1),
                ),
            )
        self.idx = idx
        fig = StagedFigure(data=data)
        aspect = min(2.0, max(0.5, (y1 - y0) / (x1 - x0)))
        w, h, margin, xm, xr, ym, yt, ys = _domains(o["size"], aspect)
        plots.layout(fig, height=h, width=w, showlegend=False, bargap=0)
        t0, t1 = float(self.times[0]), float(self.times[-1])
        top = 1.3 * max(float(dens["px"].max()), float(dens["py"].max())) if t is not None else None
        hide = dict(showticklabels=False, ticks="")
        fig.update_layout(
            margin=margin,
            title=dict(
                text=self.traj.label or self.traj.kind,
                x=0.02,
                y=0.99,
                yanchor="top",
                font=dict(size=13),
            ),
            xaxis=dict(domain=xm, range=[x0, x1], anchor="y"),
            yaxis=dict(domain=ym, range=[y0, y1], anchor="x"),
            xaxis2=dict(domain=xm, matches="x", anchor="y2", **hide),
            yaxis2=dict(domain=yt, anchor="x2", range=[0, top], autorange=top is None, **hide),
            xaxis3=dict(domain=xr, anchor="y3", range=[0, top], autorange=top is None, **hide),
            yaxis3=dict(domain=ym, matches="y", anchor="x3", **hide),
            xaxis4=dict(
                domain=(0, 1),
                anchor="y4",
                range=[t0, t1 if t1 > t0 else t0 + 1],
                title=dict(text="step" if self.chain else "time", standoff=2),
            ),
            yaxis4=dict(domain=ys, anchor="x4", range=[x0, x1], title=dict(text="x", standoff=2)),
        )
        return fig

    def _cumulative(self, d: int) -> np.ndarray:
        """(n_times, bins) counts of coordinate d over all frames <= k (few chains: history)."""
        v, bins = self.P[..., d], self.o["bins"]
        b = np.clip(np.searchsorted(self.edges[d], v, side="right") - 1, 0, bins - 1)
        rows = np.broadcast_to(np.arange(v.shape[0])[:, None], v.shape)
        inside = np.isfinite(v) & (v >= self.edges[d][0]) & (v <= self.edges[d][-1])
        counts = np.zeros((v.shape[0], bins), dtype=np.int64)
        np.add.at(counts, (rows[inside], b[inside]), 1)
        return np.cumsum(counts, 0)

    # ---- per frame --------------------------------------------------------------------------
    def update(self, j: int) -> None:
        """Draw time index j (clamped) with one plotly_update message."""
        j = max(0, min(int(j), len(self.traj) - 1))
        P, ix, m = self.P, self.idx, self.o["trail_points"]
        ch: dict[int, dict] = {}
        cur = P[j][L.finite_rows(P[j])]
        ch[ix["particles"]] = _xy(cur)
        for a in range(1, self.o["trail"] + 1):
            seg = L.segments(P[j - a, :m], P[j - a + 1, :m]) if j - a >= 0 else _NO_PTS
            ch[ix[f"trail{a}"]] = _xy(seg)
        hx, hy = self._hist(j, cur)
        # send both coordinates: a partial restyle lost the bar positions in JupyterLab
        ch[ix["hist_x"]] = {"x": self.centers[0], "y": hx}
        ch[ix["hist_y"]] = {"x": hy, "y": self.centers[1]}
        ch[ix["highlight"]] = _xy(self.H[j])
        if self.props is not None:
            self._proposals(j, ch)
        stride = max(1, math.ceil((j + 1) / 1000))  # at most ~1000 points per trace line
        tt = np.ascontiguousarray(self.times[: j + 1 : stride], dtype=np.float32)
        for i in range(len(self.hl)):
            ch[ix[f"trace{i}"]] = {
                "x": tt,
                "y": np.ascontiguousarray(self.H[: j + 1 : stride, i, 0]),
            }
        order = sorted(ch)
        keys = sorted({k for c in ch.values() for k in c})
        data = {k: [ch[i].get(k, Undefined) for i in order] for k in keys}
        self.fig.plotly_update(restyle_data=data, trace_indexes=order)

    def _hist(self, j, cur):
        if self.hist == "cumulative":
            return [
                (c[j] / max(int(c[j].sum()), 1) / (e[1] - e[0])).astype(np.float32)
                for c, e in zip(self.cum, self.edges)
            ]
        return L.hist_density(cur[:, 0], self.edges[0]), L.hist_density(cur[:, 1], self.edges[1])

    def _proposals(self, j: int, ch: dict) -> None:
        """Step j - 1 of the highlighted chains: the move that led to frame j."""
        ix = self.idx
        if j == 0:
            for name in _PROPOSAL_LAYERS:
                ch[ix[name]] = _xy(_NO_PTS)
            ch[ix["highlight"]]["marker.line.color"] = "black"
            return
        s = j - 1
        x, y = self.H[s], self.props[s]
        acc = self.acc[s, self.hl] if self.acc is not None else np.ones(len(self.hl), bool)
        center = x + self.drift[s] if self.drift is not None else x
        ch[ix["ellipses"]] = _xy(L.ellipses(center, self.eps) if self.circles else _NO_PTS)
        if self.drift is not None:  # MALA / ULA: the gradient drift (eps^2 / 2) score(x)
            arrow = L.arrows(x, center)
        elif self.mom is not None:  # HMC: where the initial momentum alone goes in half the path
            arrow = L.arrows(x, x + 0.5 * self.eps * self.lf * self.mom[s])
        else:
            arrow = _NO_PTS
        ch[ix["drift"]] = _xy(arrow)
        ch[ix["leapfrog"]] = _xy(L.polylines(self.paths[s]) if self.paths is not None else _NO_PTS)
        ch[ix["accepted"]] = _xy(L.arrows(x[acc], y[acc]))
        ch[ix["rejected"]] = _xy(L.arrows(x[~acc], y[~acc]))
        # a rejected step counts the old point again: its ring turns red
        rings = np.where(acc, plots.COLORS["accepted"], plots.COLORS["rejected"])
        ch[ix["highlight"]]["marker.line.color"] = [str(c) for c in rings]

    # ---- readout ----------------------------------------------------------------------------
    def readout(self, j: int, stats: bool) -> str:
        """The HTML line under the panel at time index j."""
        tr = self.traj
        bits = [
            f"<b>{tr.label or tr.kind}</b> {'step' if self.chain else 'time'} "
            f"{self.times[j]:.4g} ({j + 1}/{len(tr)})"
        ]
        if self.acc_rate is not None and j > 0:
            bits.append(f"acceptance so far {self.acc_rate[j]:.2f}")
        if self.div is not None and self.div[j] > 0:
            bits.append(f"divergences {int(self.div[j])}")
        if stats and self.target is not None:
            nq = min(self.o["quality_points"], tr.n_particles)
            bits.append(
                f'<span title="{TIP_Q} (on the first {nq} particles)">'
                f"distance / noise floor <b>{self.quality(j):.3g}</b> (n={nq})</span>"
            )
        if stats:
            n_ind = self.independent(j)
            tip = TIP_N
            if self.chain and j in self.n_cache and math.isfinite(self.n_cache[j].rhat):
                tip += f" (now: tau {self.n_cache[j].tau:.3g}, R-hat {self.n_cache[j].rhat:.3g})"
            bits.append(f'<span title="{tip}">independent samples <b>{n_ind:,.0f}</b></span>')
        return " &middot; ".join(bits)

    def quality(self, j: int) -> float:
        """Energy distance / noise floor of the first quality_points finite particles at j."""
        if j not in self.q_cache:
            pts = self.xs[j][L.finite_rows(self.xs[j])][: self.o["quality_points"]]
            self.q_cache[j] = self.o["quality_fn"](pts)
        return self.q_cache[j]

    def independent(self, j: int) -> float:
        """Independent samples so far at time index j (definition: ``TIP_N``); cached."""
        if not self.chain:
            return float(self.traj.n_particles) if j == len(self.traj) - 1 else 0.0
        if j not in self.n_cache:
            self.n_cache[j] = L.independent_samples(self.xs, j, self.o["burn_in"])
        return self.n_cache[j].count
