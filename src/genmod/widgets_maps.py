"""Widgets for the noise-to-sample maps: the inverse CDF explorer and the GAN replay.

``inverse_1d_explorer`` moves one uniform number through a 1D inverse CDF; ``gan_replay``
replays GAN training (real and fake points, the discriminator's field, the image of a
latent grid under the generator). Both are :func:`genmod.explorer.explorer` boxes (live,
and a static form with frames). The figures (``density_comparison``, ``side_by_side``)
are in :mod:`genmod.figures_maps`, re-exported here under their old names.
"""

from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from genmod import plots
from genmod.explorer import explorer
from genmod.figures_maps import (  # noqa: F401 (figures re-exported: the notebooks' names)
    FIELD_SCALE,
    density_comparison,
    side_by_side,
)
from genmod.inverse import InverseCDF1D
from genmod.scene import Patch, pick_frames


def _np(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.ascontiguousarray(np.asarray(x, dtype=np.float32))


def inverse_1d_explorer(inv: InverseCDF1D, n: int = 2000, seed: int = 0, height: int = 360):
    """Slide a uniform number u and watch it travel through the CDF to x = F^{-1}(u).

    Left: the CDF F, with u on the vertical axis, the path u -> F^{-1}(u). Right: the
    density with a histogram of ``n`` draws made the same way.
    """
    xs, cdf = _np(inv.edges), _np(inv.cdf)
    lo, hi = float(xs[0]), float(xs[-1])
    draws = _np(inv.sample(n, seed=seed))
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(
            "the CDF F: read u on the left, x below",
            f"density and {n} draws x = F<sup>-1</sup>(u)",
        ),
    )
    fig.add_trace(
        go.Scatter(x=xs, y=cdf, mode="lines", name="CDF", line=dict(color=plots.COLORS["exact"])),
        1,
        1,
    )
    fig.add_trace(
        go.Scatter(
            x=[lo],
            y=[0.5],
            mode="lines+markers",
            name="u -> x",
            line=dict(color=plots.COLORS["map"], width=2),
            marker=dict(size=7),
        ),
        1,
        1,
    )
    fig.add_trace(
        go.Histogram(
            x=draws,
            histnorm="probability density",
            nbinsx=80,
            marker_color=plots.COLORS["map"],
            opacity=0.5,
            name="draws",
        ),
        1,
        2,
    )
    fig.add_trace(
        go.Scatter(
            x=_np(inv.centres),
            y=_np(inv.density),
            mode="lines",
            name="density",
            line=dict(color=plots.COLORS["exact"]),
        ),
        1,
        2,
    )
    fig.add_trace(
        go.Scatter(
            x=[lo],
            y=[0.0],
            mode="markers",
            name="x",
            marker=dict(size=11, color=plots.COLORS["map"], symbol="x"),
        ),
        1,
        2,
    )
    fig.update_xaxes(range=[lo, hi])
    fig.update_yaxes(range=[-0.02, 1.02], row=1, col=1)
    plots.layout(fig, height=height, showlegend=False)
    u = W.FloatSlider(
        value=0.5,
        min=0.0,
        max=0.999,
        step=0.001,
        description="u",
        readout_format=".3f",
        layout=W.Layout(width="420px"),
    )

    def draw(v) -> Patch:
        x = float(inv(torch.tensor([v["u"]]))[0])
        traces = {1: {"x": [lo, x, x], "y": [v["u"], v["u"], 0.0]}, 4: {"x": [x]}}
        return Patch(
            traces, readout=f"u = {v['u']:.3f} &rarr; x = F<sup>-1</sup>(u) = <b>{x:.3f}</b>"
        )

    settings = [(f"{q:g}", {"u": q}) for q in (0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95)]
    return explorer([u], {"u": u}, fig, draw, settings, slider_prefix="u = ")


def _lines_xy(lines: torch.Tensor):
    """(k, m, 2) polylines -> x, y arrays with NaN breaks between lines (one trace)."""
    pad = torch.full((lines.shape[0], 1, 2), float("nan"))
    pts = torch.cat([lines, pad], 1).reshape(-1, 2)
    return _np(pts[:, 0]), _np(pts[:, 1])


def gan_replay(model, real, height: int = 460, interval_ms: int = 150, show_grid: bool = True):
    """Replay GAN training from its snapshots: a slider (and Play) over training steps.

    Shows the discriminator's field D(x) (blue: "real", red: "fake"), real points (grey),
    the generator's fake points for one fixed noise batch (green), and the image under G
    of a square grid in latent space (thin green lines: how G warps the noise).
    """
    snaps = model.snapshots
    if not snaps:
        raise ValueError("the model has no snapshots: fit with snapshot_every > 0")
    (x0, x1), (y0, y1) = model.bounds
    res = snaps[0]["field"].shape[0]
    hx, hy = (x1 - x0) / res, (y1 - y0) / res
    gx = np.linspace(x0 + hx / 2, x1 - hx / 2, res, dtype=np.float32)
    gy = np.linspace(y0 + hy / 2, y1 - hy / 2, res, dtype=np.float32)
    real = _np(real)
    lx, ly = _lines_xy(snaps[0]["grid"])
    fig = go.Figure(
        data=[
            go.Heatmap(
                x=gx,
                y=gy,
                z=_np(snaps[0]["field"]),
                colorscale=FIELD_SCALE,
                zmin=0,
                zmax=1,
                colorbar=dict(title="D(x)", len=0.8),
                hoverinfo="skip",
            ),
            go.Scattergl(
                x=real[:, 0],
                y=real[:, 1],
                mode="markers",
                name="real",
                marker=dict(size=3, color=plots.COLORS["exact"], opacity=0.5),
            ),
            go.Scatter(
                x=lx,
                y=ly,
                mode="lines",
                name="G(latent grid)",
                visible=show_grid,
                line=dict(color=plots.COLORS["map"], width=0.7),
                hoverinfo="skip",
            ),
            go.Scattergl(
                x=_np(snaps[0]["fake"][:, 0]),
                y=_np(snaps[0]["fake"][:, 1]),
                mode="markers",
                name="fake",
                meta="particles",  # the moving points (tests/test_browser.py)
                marker=dict(size=4, color=plots.COLORS["map"]),
            ),
        ]
    )
    fig.update_xaxes(range=[x0, x1])
    fig.update_yaxes(range=[y0, y1], scaleanchor="x")
    plots.layout(fig, height=height, width=height + 80)
    n = len(snaps)
    play = W.Play(value=0, min=0, max=n - 1, interval=max(60, interval_ms), description="Play")
    slider = W.IntSlider(
        value=0, min=0, max=n - 1, description="snapshot", layout=W.Layout(width="420px")
    )
    W.jslink((play, "value"), (slider, "value"))

    def draw(v) -> Patch:
        s = snaps[v["snapshot"]]
        lx, ly = _lines_xy(s["grid"])
        traces = {
            0: {"z": _np(s["field"])},
            2: {"x": lx, "y": ly},
            3: {"x": _np(s["fake"][:, 0]), "y": _np(s["fake"][:, 1])},
        }
        title = f"training step {s['step']}"
        return Patch(traces, {"title.text": title}, f"step {s['step']} of {snaps[-1]['step']}")

    keep = pick_frames(n, 12)
    settings = [(str(snaps[k]["step"]), {"snapshot": k}) for k in keep]
    box = explorer(
        [W.HBox([play, slider])],
        {"snapshot": slider},
        fig,
        draw,
        settings,
        slider_prefix="training step ",
        interval_ms=interval_ms,
    )
    box.slider, box.play = slider, play
    return box
